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

export function payloadFor(
  job: Pick<Job, 'id' | 'tenantId' | 'kind' | 'datasetVersionId'>,
): Record<string, string> {
  const base = { tenantId: job.tenantId, jobId: job.id };
  return job.kind === 'INGEST_DATASET' && job.datasetVersionId
    ? { ...base, datasetVersionId: job.datasetVersionId }
    : base;
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
    /** First retry delay of a failed attempt (doubling after), JOB_RETRY_BACKOFF_MS. */
    private readonly retryBackoffMs = 2_000,
  ) {}

  async enqueue(
    job: Pick<Job, 'id' | 'tenantId' | 'kind' | 'queue' | 'priority' | 'datasetVersionId'>,
  ): Promise<void> {
    const def = definitionForKind(job.kind);
    if (!def) throw new UnroutableJobError(`no job definition for kind ${job.kind}`);
    const queueClass = job.queue as QueueClass;
    if (!def.queues.includes(queueClass))
      throw new UnroutableJobError(`${def.name} cannot run on the ${job.queue} queue`);
    const queue = this.queues[queueClass];
    if (!queue) throw new UnroutableJobError(`queue ${job.queue} is not configured`);
    const payload = validatePayload(def, payloadFor(job));
    await queue.add(bullJobName(def), payload, {
      jobId: job.id,
      priority: bullPriority(job.priority),
      attempts: 5,
      backoff: { type: 'exponential', delay: this.retryBackoffMs },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    await this.store.markEnqueued({ tenantId: job.tenantId, jobId: job.id });
  }

  /**
   * Finishes rows whose delivery BullMQ gave up on without the row being told: a worker that died on
   * every attempt (BullMQ fails a job that stalled more than `maxStalledCount` times), or a runner
   * whose last `finish` could not reach Postgres. Looks at RUNNING rows whose heartbeat is older than
   * the staleness window and enqueued QUEUED rows untouched for as long; a row whose BullMQ job is
   * `failed` becomes FAILED (RETRIES_EXHAUSTED, BullMQ's reason), with its dependents. A row whose
   * BullMQ job no longer exists at all (Redis lost it) is enqueued again. Returns the rows changed.
   */
  async reconcileAbandoned(limit = 100): Promise<{ failed: number; requeued: number }> {
    const before = new Date(Date.now() - this.store.limits.heartbeatStaleMs);
    const select = {
      id: true,
      tenantId: true,
      kind: true,
      queue: true,
      priority: true,
      datasetVersionId: true,
    } as const;
    const rows = [
      ...(await this.systemDb.job.findMany({
        where: {
          status: 'RUNNING',
          OR: [{ heartbeatAt: null }, { heartbeatAt: { lt: before } }],
          updatedAt: { lt: before },
        },
        orderBy: { updatedAt: 'asc' },
        take: limit,
        select,
      })),
      ...(await this.systemDb.job.findMany({
        where: { status: 'QUEUED', enqueuedAt: { not: null }, updatedAt: { lt: before } },
        orderBy: { updatedAt: 'asc' },
        take: limit,
        select,
      })),
    ];
    let failed = 0;
    let requeued = 0;
    for (const row of rows) {
      const queue = this.queues[row.queue as QueueClass];
      if (!queue) continue;
      const state = await queue.getJobState(row.id);
      if (state === 'failed') {
        const bull = await queue.getJob(row.id);
        const reason = bull?.failedReason || 'the queue gave up on the job';
        const done = await this.store.finish({ tenantId: row.tenantId, jobId: row.id }, 'FAILED', {
          failureCode: 'RETRIES_EXHAUSTED',
          failureReason: reason,
        });
        if (done) failed++;
      } else if (state === 'unknown') {
        await this.enqueue(row);
        requeued++;
      }
    }
    return { failed, requeued };
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
