import { Prisma, type Job, type JobEvent, type JobKind, type JobStatus, type PrismaClient, withTenant } from '@modelsmith/db';
import type { JobRef } from '@modelsmith/contracts';
import { isTerminal, type JobEventType, type JobProgress } from './job-events';

type Tx = Prisma.TransactionClient;

export interface NewJob {
  kind: JobKind;
  queue: 'cpu' | 'gpu';
  priority?: number;
  datasetVersionId?: string | null;
  modelId?: string | null;
  mode?: string | null;
  budget?: Prisma.InputJsonValue;
  options?: Prisma.InputJsonValue;
}

export interface FinishOptions {
  result?: Prisma.InputJsonValue;
  failureCode?: string;
  failureReason?: string;
  message?: string;
}

export class JobNotFoundError extends Error {
  readonly code = 'JOB_NOT_FOUND';
  constructor(id: string) {
    super(`job ${id} does not exist`);
  }
}

export class JobStateConflictError extends Error {
  readonly code = 'JOB_STATE_CONFLICT';
}

/**
 * Job rows and their events: the source of truth for job state. Every method runs in a transaction
 * scoped to the job's tenant (row-level security), so a job id from another tenant behaves as absent.
 */
export class JobStore {
  constructor(private readonly db: PrismaClient) {}

  private tx<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withTenant(this.db, tenantId, fn);
  }

  /** Appends an event with the next per-job sequence number; the caller's transaction holds the job row lock. */
  private async appendEvent(tx: Tx, job: Pick<Job, 'id' | 'tenantId'>, type: JobEventType, p: JobProgress = {}): Promise<JobEvent> {
    const last = await tx.jobEvent.findFirst({ where: { jobId: job.id }, orderBy: { seq: 'desc' }, select: { seq: true } });
    return tx.jobEvent.create({
      data: {
        tenantId: job.tenantId,
        jobId: job.id,
        seq: (last?.seq ?? 0) + 1,
        type,
        stage: p.stage ?? null,
        percent: p.percent ?? null,
        message: p.message ?? null,
        ...(p.data ? { data: p.data as Prisma.InputJsonValue } : {}),
      },
    });
  }

  private async lock(tx: Tx, id: string): Promise<Job> {
    const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM jobs WHERE id = ${id} FOR UPDATE`;
    if (rows.length === 0) throw new JobNotFoundError(id);
    return tx.job.findUniqueOrThrow({ where: { id } });
  }

  /** Writes the row (and its first event) before anything is enqueued. */
  async create(tenantId: string, input: NewJob): Promise<Job> {
    return this.tx(tenantId, async (tx) => {
      const job = await tx.job.create({
        data: {
          tenantId,
          kind: input.kind,
          queue: input.queue,
          priority: input.priority ?? 0,
          datasetVersionId: input.datasetVersionId ?? null,
          modelId: input.modelId ?? null,
          mode: input.mode ?? null,
          ...(input.budget !== undefined ? { budget: input.budget } : {}),
          ...(input.options !== undefined ? { options: input.options } : {}),
        },
      });
      await this.appendEvent(tx, job, 'queued', { stage: 'queued', percent: 0 });
      return job;
    });
  }

  get(tenantId: string, id: string): Promise<Job | null> {
    return this.tx(tenantId, (tx) => tx.job.findUnique({ where: { id } }));
  }

  async markEnqueued(ref: JobRef): Promise<void> {
    await this.tx(ref.tenantId, (tx) =>
      tx.job.updateMany({ where: { id: ref.jobId, enqueuedAt: null }, data: { enqueuedAt: new Date() } }),
    );
  }

  /**
   * QUEUED/RUNNING -> RUNNING for this delivery. Returns null when the job is already terminal (a
   * duplicate delivery), so the caller skips it. A cancel requested while queued finishes it here.
   */
  async start(ref: JobRef, workerId: string): Promise<Job | null> {
    return this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      if (isTerminal(job.status)) return null;
      const resumed = job.status === 'RUNNING';
      const updated = await tx.job.update({
        where: { id: job.id },
        data: {
          status: 'RUNNING',
          startedAt: job.startedAt ?? new Date(),
          heartbeatAt: new Date(),
          workerId,
          attempts: { increment: 1 },
        },
      });
      await this.appendEvent(tx, job, 'started', {
        stage: job.stage ?? 'starting',
        message: resumed ? `resumed on worker ${workerId}` : `started on worker ${workerId}`,
        data: { attempt: updated.attempts, resumed },
      });
      return updated;
    });
  }

  /** Persists progress on the row and as an event. */
  async progress(ref: JobRef, p: JobProgress, type: JobEventType = 'progress'): Promise<void> {
    await this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      if (isTerminal(job.status)) return;
      await tx.job.update({
        where: { id: job.id },
        data: {
          heartbeatAt: new Date(),
          ...(p.stage !== undefined ? { stage: p.stage } : {}),
          ...(p.percent !== undefined ? { percent: Math.max(0, Math.min(100, p.percent)) } : {}),
          ...(p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds === null ? null : Math.round(p.etaSeconds) } : {}),
        },
      });
      await this.appendEvent(tx, job, type, p);
    });
  }

  /** Merges fields into the row without an event (metric history, best metric, compute time). */
  async update(ref: JobRef, data: Prisma.JobUpdateInput): Promise<void> {
    await this.tx(ref.tenantId, (tx) => tx.job.update({ where: { id: ref.jobId }, data }));
  }

  async finish(ref: JobRef, status: Extract<JobStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>, o: FinishOptions = {}): Promise<Job | null> {
    return this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      if (isTerminal(job.status)) return null;
      const finishedAt = new Date();
      const updated = await tx.job.update({
        where: { id: job.id },
        data: {
          status,
          finishedAt,
          percent: status === 'SUCCEEDED' ? 100 : job.percent,
          etaSeconds: null,
          ...(o.result !== undefined ? { result: o.result } : {}),
          ...(o.failureCode ? { failureCode: o.failureCode, failureReason: o.failureReason ?? null } : {}),
        },
      });
      const type: JobEventType = status === 'SUCCEEDED' ? 'succeeded' : status === 'FAILED' ? 'failed' : 'cancelled';
      await this.appendEvent(tx, job, type, {
        stage: job.stage ?? undefined,
        percent: updated.percent,
        message: o.message ?? o.failureReason,
        ...(o.failureCode ? { data: { failureCode: o.failureCode } } : {}),
      });
      return updated;
    });
  }

  /** QUEUED jobs are cancelled at once; RUNNING ones are flagged and stop at their next step boundary. */
  async requestCancel(tenantId: string, id: string): Promise<Job | null> {
    return this.tx(tenantId, async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM jobs WHERE id = ${id} FOR UPDATE`;
      if (rows.length === 0) return null;
      const job = await tx.job.findUniqueOrThrow({ where: { id } });
      if (isTerminal(job.status)) throw new JobStateConflictError(`job ${id} is already ${job.status}`);
      if (job.status === 'QUEUED') {
        const updated = await tx.job.update({
          where: { id },
          data: { status: 'CANCELLED', cancelRequestedAt: new Date(), finishedAt: new Date() },
        });
        await this.appendEvent(tx, job, 'cancelled', { message: 'cancelled before it started' });
        return updated;
      }
      return tx.job.update({ where: { id }, data: { cancelRequestedAt: job.cancelRequestedAt ?? new Date() } });
    });
  }

  async isCancelRequested(ref: JobRef): Promise<boolean> {
    const job = await this.tx(ref.tenantId, (tx) =>
      tx.job.findUnique({ where: { id: ref.jobId }, select: { cancelRequestedAt: true } }),
    );
    return job?.cancelRequestedAt != null;
  }

  events(tenantId: string, jobId: string, afterSeq = 0, limit = 500): Promise<JobEvent[]> {
    return this.tx(tenantId, (tx) =>
      tx.jobEvent.findMany({ where: { jobId, seq: { gt: afterSeq } }, orderBy: { seq: 'asc' }, take: limit }),
    );
  }
}
