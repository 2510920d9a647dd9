import type { Queue } from 'bullmq';
import type { Job, PrismaClient } from '@modelsmith/db';
import { bullJobName, definitionForKind, validatePayload, type QueueClass } from '@modelsmith/contracts';
import type { JobStore } from './job-store';

export type QueueMap = Partial<Record<QueueClass, Queue>>;

export class UnroutableJobError extends Error {
  readonly code = 'JOB_UNROUTABLE';
}

/** BullMQ priority: 1 is highest, larger is lower; our rows use "larger is more urgent" (-100..100). */
export function bullPriority(priority: number): number {
  return Math.max(1, Math.min(2_097_152, 101 - Math.max(-100, Math.min(100, Math.round(priority)))));
}

export function payloadFor(job: Pick<Job, 'id' | 'tenantId' | 'kind' | 'datasetVersionId'>): Record<string, string> {
  const base = { tenantId: job.tenantId, jobId: job.id };
  return job.kind === 'INGEST_DATASET' && job.datasetVersionId ? { ...base, datasetVersionId: job.datasetVersionId } : base;
}

/**
 * Puts job rows on their queue. The BullMQ job id is the row id, so enqueueing twice is a no-op while
 * the first copy exists. Rows are written before they are enqueued; `reconcile` re-enqueues rows whose
 * enqueue never happened (crash between the two), so nothing accepted is lost.
 */
export class JobDispatcher {
  constructor(
    private readonly queues: QueueMap,
    private readonly store: JobStore,
    private readonly systemDb: PrismaClient,
  ) {}

  async enqueue(job: Pick<Job, 'id' | 'tenantId' | 'kind' | 'queue' | 'priority' | 'datasetVersionId'>): Promise<void> {
    const def = definitionForKind(job.kind);
    if (!def) throw new UnroutableJobError(`no job definition for kind ${job.kind}`);
    const queueClass = job.queue as QueueClass;
    if (!def.queues.includes(queueClass)) throw new UnroutableJobError(`${def.name} cannot run on the ${job.queue} queue`);
    const queue = this.queues[queueClass];
    if (!queue) throw new UnroutableJobError(`queue ${job.queue} is not configured`);
    const payload = validatePayload(def, payloadFor(job));
    await queue.add(bullJobName(def), payload, {
      jobId: job.id,
      priority: bullPriority(job.priority),
      attempts: 5,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    await this.store.markEnqueued({ tenantId: job.tenantId, jobId: job.id });
  }

  /** Re-enqueues QUEUED rows that never reached the queue and are older than `graceMs`. Returns how many. */
  async reconcile(graceMs = 10_000, limit = 500): Promise<number> {
    const stale = await this.systemDb.job.findMany({
      where: { status: 'QUEUED', enqueuedAt: null, createdAt: { lt: new Date(Date.now() - graceMs) } },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    for (const job of stale) await this.enqueue(job);
    return stale.length;
  }
}
