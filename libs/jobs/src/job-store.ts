import { DelayedError } from 'bullmq';
import {
  Prisma,
  type Job,
  type JobEvent,
  type JobKind,
  type JobStatus,
  type PrismaClient,
  withTenant,
} from '@modelsmith/db';
import type { JobRef } from '@modelsmith/contracts';
import { countRunning, lockAdmission, lockTenantAdmission } from './admission';
import { settleDependents } from './dependents';
import { JobTakenOverError } from './errors';
import { isTerminal, type JobEventType, type JobProgress } from './job-events';
import {
  DEFAULT_LIMITS,
  heartbeatEveryMs,
  THROTTLE_RETRY_MS,
  WAITING_STAGE,
  type ConcurrencyLimits,
  type StartResult,
} from './limits';
import { assertWithinQuota, readQuotaUsage } from './quota';
import { jobEventData, recordWebhookEvent } from './webhooks/outbox';

/** A transaction on the tenant-scoped client, as `finish` hands it to `commit`. */
export type Tx = Prisma.TransactionClient;

/** A job row to write. Apps submit jobs through JobSubmitter (inputs parsed, quota, routing). */
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

/** Filters of `JobStore.list`. */
export interface JobListFilter {
  status?: JobStatus;
  kind?: JobKind;
  datasetVersionId?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface FinishOptions {
  result?: Prisma.InputJsonValue;
  failureCode?: string;
  failureReason?: string;
  message?: string;
  /**
   * Writes that stand only if the job is recorded SUCCEEDED, run in the same transaction as that row
   * (after it, under its lock): what the job built (a READY dataset version) and the job's state can
   * then never disagree, not even for a moment. Skipped when the job had already ended.
   */
  commit?: (tx: Tx) => Promise<void>;
  /**
   * The delivery finishing the job (`attempts` of the row its start returned): when another delivery
   * has started the job since, nothing is written and JobTakenOverError is thrown.
   */
  owner?: number;
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

export interface JobStoreOptions {
  /** Client that bypasses row-level security; needed only to count RUNNING jobs across tenants (global limit). */
  systemDb?: PrismaClient;
  /** Limits applied by `startOrDefer`. */
  limits?: Partial<ConcurrencyLimits>;
}

/**
 * What the runner's poll reads (`JobStore.heartbeat`): whether the owner asked to cancel, and the
 * row's `attempts`, which names the delivery that started it last (null when the row is gone).
 */
export interface RunningState {
  cancelRequested: boolean;
  attempts: number | null;
}

export interface CreateOptions {
  /** Refuse the job when the tenant is over its compute-minute quota or holds too many active jobs. */
  enforceQuota?: boolean;
}

/** The BullMQ delivery being started: what `startOrDefer` needs to put it back for later. */
export interface Delivery {
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}

/** Seconds of compute since the last heartbeat of a RUNNING row, capped so a dead worker's gap is not billed. */
function elapsedSince(job: Pick<Job, 'status' | 'heartbeatAt'>, now: Date, capMs: number): number {
  if (job.status !== 'RUNNING' || !job.heartbeatAt) return 0;
  return Math.max(0, Math.min(capMs, now.getTime() - job.heartbeatAt.getTime())) / 1000;
}

/**
 * Job rows and their events: the source of truth for job state. Every method runs in a transaction
 * scoped to the job's tenant (row-level security), so a job id from another tenant behaves as absent.
 */
export class JobStore {
  readonly limits: ConcurrencyLimits;
  private readonly systemDb?: PrismaClient;

  constructor(
    private readonly db: PrismaClient,
    opts: JobStoreOptions = {},
  ) {
    this.systemDb = opts.systemDb;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  private tx<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withTenant(this.db, tenantId, fn);
  }

  /** Appends an event with the next per-job sequence number; the caller's transaction holds the job row lock. */
  /** A running job's heartbeat, compute seconds, and the stage/percent/ETA `p` gives (progress events). */
  private async touch(tx: Tx, job: Job, p: JobProgress, requeued: boolean): Promise<void> {
    const now = new Date();
    await tx.job.update({
      where: { id: job.id },
      data: {
        heartbeatAt: job.status === 'RUNNING' && !requeued ? now : null,
        computeSeconds: { increment: elapsedSince(job, now, this.limits.heartbeatStaleMs) },
        ...(p.stage !== undefined ? { stage: p.stage } : {}),
        ...(p.percent !== undefined ? { percent: Math.max(0, Math.min(100, p.percent)) } : {}),
        ...(p.etaSeconds !== undefined
          ? { etaSeconds: p.etaSeconds === null ? null : Math.round(p.etaSeconds) }
          : {}),
      },
    });
  }

  private async appendEvent(
    tx: Tx,
    job: Pick<Job, 'id' | 'tenantId'>,
    type: JobEventType,
    p: JobProgress = {},
  ): Promise<JobEvent> {
    const last = await tx.jobEvent.findFirst({
      where: { jobId: job.id },
      orderBy: { seq: 'desc' },
      select: { seq: true },
    });
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

  /**
   * A delivery owns the row from its start: `owner` is the `attempts` its own start wrote (each start
   * adds one). Throws JobTakenOverError when another delivery has started the job since. Writes that
   * pass no owner are not checked.
   */
  private assertOwner(job: Job, owner: number | undefined): void {
    if (owner !== undefined && job.attempts !== owner)
      throw new JobTakenOverError(
        `job ${job.id} was started again (attempt ${job.attempts}) after this delivery's start (attempt ${owner})`,
      );
  }

  /**
   * Writes the row (and its first event) before anything is enqueued. With `enforceQuota`, throws
   * QuotaExceededError / TooManyActiveJobsError first (serialized per tenant, so concurrent creates
   * cannot both slip under the cap).
   */
  async create(tenantId: string, input: NewJob, opts: CreateOptions = {}): Promise<Job> {
    return this.tx(tenantId, async (tx) => {
      if (opts.enforceQuota) {
        await lockTenantAdmission(tx, tenantId);
        assertWithinQuota(await readQuotaUsage(tx, tenantId));
      }
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

  /** The tenant's jobs, newest first: up to `take` rows after `cursor` (a job id). */
  list(tenantId: string, f: JobListFilter, take: number, cursor?: string): Promise<Job[]> {
    const where: Prisma.JobWhereInput = {
      ...(f.status ? { status: f.status } : {}),
      ...(f.kind ? { kind: f.kind } : {}),
      ...(f.datasetVersionId ? { datasetVersionId: f.datasetVersionId } : {}),
      ...(f.createdAfter || f.createdBefore
        ? {
            createdAt: {
              ...(f.createdAfter ? { gte: f.createdAfter } : {}),
              ...(f.createdBefore ? { lt: f.createdBefore } : {}),
            },
          }
        : {}),
    };
    return this.tx(tenantId, (tx) =>
      tx.job.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      }),
    );
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
   * QUEUED/RUNNING -> RUNNING for this delivery, without concurrency limits. Returns null when the job
   * is already terminal (a duplicate delivery), so the caller skips it.
   */
  async start(ref: JobRef, workerId: string): Promise<Job | null> {
    const r = await this.tryStart(ref, workerId, { ...this.limits, globalMaxRunning: 0 }, false);
    return r.outcome === 'started' ? r.job : null;
  }

  /**
   * Like `start`, but only while the tenant (Tenant.maxConcurrentJobs) and the installation
   * (`limits.globalMaxRunning`) have a free slot. A slot is a RUNNING row with a fresh heartbeat, so
   * a crashed worker's slot frees itself once its heartbeat goes stale; nothing is counted that could
   * leak. Admissions are serialized by a transaction-scoped advisory lock (released on commit or on a
   * dropped connection), so two workers cannot both take the last slot.
   */
  async tryStart(
    ref: JobRef,
    workerId: string,
    limits: ConcurrencyLimits = this.limits,
    enforceTenantLimit = true,
  ): Promise<StartResult> {
    return this.tx(ref.tenantId, async (tx) => {
      if (enforceTenantLimit || limits.globalMaxRunning > 0) await lockAdmission(tx);
      const job = await this.lock(tx, ref.jobId);
      if (isTerminal(job.status)) return { outcome: 'finished' } as const;
      const now = new Date();
      const freshAfter = new Date(now.getTime() - limits.heartbeatStaleMs);
      if (enforceTenantLimit) {
        const tenant = await tx.tenant.findUniqueOrThrow({
          where: { id: job.tenantId },
          select: { maxConcurrentJobs: true },
        });
        const running = await countRunning(tx, { tenantId: job.tenantId, excludeJobId: job.id, freshAfter });
        if (running >= tenant.maxConcurrentJobs)
          return this.throttled(tx, job, 'tenant', running, tenant.maxConcurrentJobs);
      }
      if (limits.globalMaxRunning > 0) {
        if (!this.systemDb)
          throw new Error('JobStore needs a systemDb to enforce a global concurrency limit');
        const running = await countRunning(this.systemDb, { excludeJobId: job.id, freshAfter });
        if (running >= limits.globalMaxRunning)
          return this.throttled(tx, job, 'global', running, limits.globalMaxRunning);
      }
      const resumed = job.status === 'RUNNING';
      const stage = job.stage === WAITING_STAGE ? null : job.stage;
      const updated = await tx.job.update({
        where: { id: job.id },
        data: {
          status: 'RUNNING',
          stage,
          startedAt: job.startedAt ?? now,
          heartbeatAt: now,
          workerId,
          attempts: { increment: 1 },
        },
      });
      await this.appendEvent(tx, job, 'started', {
        stage: stage ?? 'starting',
        message: resumed ? `resumed on worker ${workerId}` : `started on worker ${workerId}`,
        data: { attempt: updated.attempts, resumed },
      });
      return { outcome: 'started', job: updated } as const;
    });
  }

  /** Leaves the job waiting (a RUNNING row whose worker died goes back to QUEUED); one event per wait. */
  private async throttled(
    tx: Tx,
    job: Job,
    scope: 'tenant' | 'global',
    running: number,
    limit: number,
  ): Promise<StartResult> {
    if (job.stage !== WAITING_STAGE || job.status !== 'QUEUED') {
      await tx.job.update({
        where: { id: job.id },
        data: { status: 'QUEUED', stage: WAITING_STAGE, heartbeatAt: null, workerId: null },
      });
      const who = scope === 'tenant' ? 'this tenant' : 'the platform';
      await this.appendEvent(tx, job, 'log', {
        stage: WAITING_STAGE,
        message: `waiting for a free slot: ${who} has ${running} of ${limit} concurrent jobs running`,
        data: { scope, running, limit },
      });
    }
    return { outcome: 'throttled', scope, running, limit };
  }

  /**
   * The worker's entry point for a delivery: `tryStart` with this store's limits. When a limit is full
   * the delivery goes back to BullMQ's delayed set (not counted as an attempt) and BullMQ's
   * DelayedError is thrown, which the worker must let through. Otherwise behaves like `start`.
   */
  async startOrDefer(ref: JobRef, workerId: string, delivery: Delivery, token?: string): Promise<Job | null> {
    const r = await this.tryStart(ref, workerId, this.limits);
    switch (r.outcome) {
      case 'started':
        return r.job;
      case 'finished':
        return null;
      case 'throttled':
        await delivery.moveToDelayed(
          Date.now() + THROTTLE_RETRY_MS + Math.floor(Math.random() * THROTTLE_RETRY_MS),
          token,
        );
        throw new DelayedError(
          `job ${ref.jobId} waits for a ${r.scope} concurrency slot (${r.running}/${r.limit})`,
        );
    }
  }

  /**
   * Persists progress on the row and as an event. With `owner` (the `attempts` the delivery's start
   * wrote), a delivery that another one has replaced since writes nothing: JobTakenOverError.
   */
  async progress(
    ref: JobRef,
    p: JobProgress,
    type: JobEventType = 'progress',
    owner?: number,
  ): Promise<void> {
    await this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      this.assertOwner(job, owner);
      if (isTerminal(job.status)) return;
      // A job handed back to the queue (shutdown) stops holding a concurrency slot at once.
      await this.touch(tx, job, p, type === 'requeued');
      await this.appendEvent(tx, job, type, p);
    });
  }

  /**
   * Several events of one type at once, in order, in one transaction (what `progress` does for each,
   * the row's stage, percent and ETA from the last): a pipeline reporting the epochs of a phase
   * trained before (a head on cached features: 40 epochs) takes one round of locks instead of 40,
   * and its events are one insert.
   */
  async progressMany(
    ref: JobRef,
    ps: JobProgress[],
    type: JobEventType = 'progress',
    owner?: number,
  ): Promise<void> {
    const last = ps.at(-1);
    if (!last) return;
    await this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      this.assertOwner(job, owner);
      if (isTerminal(job.status)) return;
      await this.touch(tx, job, last, false);
      // One read of the last number and one insert (not one of each per event): the transaction
      // stays short under load (Prisma's interactive transactions time out after 5 s).
      const lastSeq = await tx.jobEvent.findFirst({
        where: { jobId: job.id },
        orderBy: { seq: 'desc' },
        select: { seq: true },
      });
      await tx.jobEvent.createMany({
        data: ps.map((p, i) => ({
          tenantId: job.tenantId,
          jobId: job.id,
          seq: (lastSeq?.seq ?? 0) + 1 + i,
          type,
          stage: p.stage ?? null,
          percent: p.percent ?? null,
          message: p.message ?? null,
          ...(p.data ? { data: p.data as Prisma.InputJsonValue } : {}),
        })),
      });
    });
  }

  /**
   * A stopping worker hands its RUNNING job back to the queue: QUEUED, no worker, no heartbeat (its
   * concurrency slot frees at once), and a `requeued` event. Nothing is written when the job has
   * ended, and, with `owner`, JobTakenOverError when another delivery has started it since.
   */
  async requeue(ref: JobRef, message: string, owner?: number): Promise<void> {
    await this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      this.assertOwner(job, owner);
      if (isTerminal(job.status)) return;
      await this.touch(tx, job, {}, true);
      await tx.job.update({
        where: { id: job.id },
        data: { status: 'QUEUED', workerId: null, heartbeatAt: null },
      });
      await this.appendEvent(tx, job, 'requeued', { message });
    });
  }

  /**
   * Merges fields into the row without an event (metric history, best metric, compute time). With
   * `owner` (the `attempts` the delivery's start wrote), a delivery that another one has replaced
   * since writes nothing: JobTakenOverError.
   */
  async update(ref: JobRef, data: Prisma.JobUpdateInput, owner?: number): Promise<void> {
    await this.tx(ref.tenantId, async (tx) => {
      if (owner !== undefined) this.assertOwner(await this.lock(tx, ref.jobId), owner);
      await tx.job.update({ where: { id: ref.jobId }, data });
    });
  }

  /**
   * Takes `seconds` back off the job's compute time (never below zero): time its runner spent only
   * waiting for work charged elsewhere (a search waiting for its trials, which charge their own).
   */
  async uncharge(ref: JobRef, seconds: number): Promise<void> {
    if (!(seconds > 0)) return;
    await this.tx(
      ref.tenantId,
      (tx) =>
        tx.$executeRaw`
        UPDATE jobs SET compute_seconds = GREATEST(0, compute_seconds - ${seconds}::double precision)
         WHERE id = ${ref.jobId}`,
    );
  }

  /**
   * RUNNING/QUEUED -> terminal, once (later calls return null). A FAILED or CANCELLED job's dependent
   * rows (its dataset version) end the same way in the same transaction (`settleDependents`). With
   * `o.owner`, a delivery that another one has replaced since changes nothing (not even a row the
   * newer delivery has finished): JobTakenOverError.
   */
  async finish(
    ref: JobRef,
    status: Extract<JobStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>,
    o: FinishOptions = {},
  ): Promise<Job | null> {
    return this.tx(ref.tenantId, async (tx) => {
      const job = await this.lock(tx, ref.jobId);
      this.assertOwner(job, o.owner);
      if (isTerminal(job.status)) return null;
      const finishedAt = new Date();
      const updated = await tx.job.update({
        where: { id: job.id },
        data: {
          status,
          finishedAt,
          heartbeatAt: job.status === 'RUNNING' ? finishedAt : job.heartbeatAt,
          computeSeconds: { increment: elapsedSince(job, finishedAt, this.limits.heartbeatStaleMs) },
          percent: status === 'SUCCEEDED' ? 100 : job.percent,
          etaSeconds: null,
          ...(o.result !== undefined ? { result: o.result } : {}),
          ...(o.failureCode ? { failureCode: o.failureCode, failureReason: o.failureReason ?? null } : {}),
        },
      });
      if (status === 'SUCCEEDED' && o.commit) await o.commit(tx);
      if (status !== 'SUCCEEDED') {
        await settleDependents(tx, job, {
          status,
          failureCode: o.failureCode,
          failureReason: o.failureReason ?? o.message,
        });
      }
      const type: JobEventType =
        status === 'SUCCEEDED' ? 'succeeded' : status === 'FAILED' ? 'failed' : 'cancelled';
      await this.appendEvent(tx, job, type, {
        stage: job.stage ?? undefined,
        percent: updated.percent,
        message: o.message ?? o.failureReason,
        ...(o.failureCode ? { data: { failureCode: o.failureCode } } : {}),
      });
      // The webhook outbox row commits (or not) with the terminal state.
      await recordWebhookEvent(tx, job.tenantId, `job.${type}` as const, jobEventData(updated));
      return updated;
    });
  }

  /**
   * QUEUED jobs are cancelled at once (with their dependent rows, like `finish`); RUNNING ones are
   * flagged and stop at their next step boundary.
   */
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
        await settleDependents(tx, job, {
          status: 'CANCELLED',
          failureReason: 'the job was cancelled before it started',
        });
        await this.appendEvent(tx, job, 'cancelled', { message: 'cancelled before it started' });
        await recordWebhookEvent(tx, job.tenantId, 'job.cancelled', jobEventData(updated));
        return updated;
      }
      return tx.job.update({
        where: { id },
        data: { cancelRequestedAt: job.cancelRequestedAt ?? new Date() },
      });
    });
  }

  /** Whether the owner asked to cancel (`heartbeat` without an owner). */
  async isCancelRequested(ref: JobRef): Promise<boolean> {
    return (await this.heartbeat(ref)).cancelRequested;
  }

  /**
   * What the runner polls every second: whether the job's owner asked to cancel, and which delivery
   * started the job last (`attempts`). It is also the heartbeat of a RUNNING job: at most every
   * `heartbeatEveryMs(limits)` it refreshes `heartbeatAt` (keeping the job's concurrency slot) and adds
   * the elapsed wall time to `computeSeconds`; with `owner`, only while that delivery is the last one
   * to have started the job (a replaced delivery does not keep the row alive).
   */
  async heartbeat(ref: JobRef, owner?: number): Promise<RunningState> {
    const ownerOnly = owner === undefined ? Prisma.empty : Prisma.sql`AND attempts = ${owner}`;
    const row = await this.tx(ref.tenantId, async (tx) => {
      const now = new Date();
      const due = new Date(now.getTime() - heartbeatEveryMs(this.limits));
      const capSeconds = this.limits.heartbeatStaleMs / 1000;
      await tx.$executeRaw`
        UPDATE jobs
           SET compute_seconds = compute_seconds
                 + LEAST(${capSeconds}::double precision, GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - heartbeat_at))::double precision)),
               heartbeat_at = ${now}::timestamptz,
               updated_at = ${now}::timestamptz
         WHERE id = ${ref.jobId} AND status = 'RUNNING' AND heartbeat_at IS NOT NULL AND heartbeat_at < ${due}::timestamptz ${ownerOnly}`;
      return tx.job.findUnique({
        where: { id: ref.jobId },
        select: { cancelRequestedAt: true, attempts: true },
      });
    });
    return { cancelRequested: row?.cancelRequestedAt != null, attempts: row?.attempts ?? null };
  }

  events(tenantId: string, jobId: string, afterSeq = 0, limit = 500): Promise<JobEvent[]> {
    return this.tx(tenantId, (tx) =>
      tx.jobEvent.findMany({ where: { jobId, seq: { gt: afterSeq } }, orderBy: { seq: 'asc' }, take: limit }),
    );
  }
}
