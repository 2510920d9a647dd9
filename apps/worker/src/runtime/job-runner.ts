import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, WaitingError, type Job as BullJob } from 'bullmq';
import {
  definitionForBullName,
  InvalidJobInputsError,
  jobRef,
  parseRowInputs,
  type JobRef,
} from '@modelsmith/contracts';
import {
  JobCancelledError,
  JobInterruptedError,
  JobNotFoundError,
  JobTakenOverError,
  PermanentJobError,
  type JobProgress,
  type JobStore,
  type Tx,
} from '@modelsmith/jobs';
import { isStorageError } from '@modelsmith/storage';
import type { JobContext, JobHandler } from './job-handler';

export interface RunnerLogger {
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface JobRunnerOptions {
  workerId: string;
  /** Aborted when the worker starts shutting down. */
  shutdown: AbortSignal;
  /**
   * How often a running job checks whether its owner cancelled it and whether another delivery of it
   * has started since (then this one stops).
   */
  cancelPollMs?: number;
  /**
   * The queue worker's BullMQ `lockDuration`. When set, the poll also renews this delivery's queue lock
   * every half of it while the delivery owns the job. BullMQ renews it too, but its lock manager keys
   * deliveries by job id: when a replaced delivery of a job ends in the process that also runs the
   * newer one, BullMQ stops renewing the newer one's lock, which would then stall and be delivered
   * (and take the job over) once more.
   */
  lockDurationMs?: number;
  /**
   * A delivery during which the process's event loop was held this long at once (synchronous kernels)
   * logs a warning when it ends: the poll, the lock renewal and every database call waited that long.
   * Default {@link LOOP_HELD_WARN_MS}.
   */
  loopHeldWarnMs?: number;
  logger: RunnerLogger;
}

/** Default {@link JobRunnerOptions.loopHeldWarnMs}: Prisma's default wait for a transaction to start. */
export const LOOP_HELD_WARN_MS = 5_000;
/** The event-loop delay histogram's sampling interval. */
const LOOP_SAMPLE_MS = 20;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Whether `e`, or an error it wraps (`cause`, a few levels), says an object the job reads does not
 * exist: its dataset's shards or a model's artifacts deleted, another store configured. Every retry
 * would read the same nothing, so the job fails at once with `INPUT_NOT_FOUND`.
 */
export function missingObject(e: unknown): boolean {
  for (let depth = 0; depth < 5 && e instanceof Error; depth++, e = e.cause) {
    if (isStorageError(e, 'OBJECT_NOT_FOUND')) return true;
  }
  return false;
}

/**
 * One delivery of one job: validates the payload, moves the row to RUNNING, parses the row's inputs
 * with the job definition's schema (INVALID_JOB_INPUTS fails the job for good), runs the handler with an
 * AbortSignal that fires on cancellation or shutdown, and records the outcome. Idempotent: a
 * redelivered job that is already terminal is skipped. Permanent failures become BullMQ
 * UnrecoverableErrors; transient ones are rethrown so BullMQ retries with back-off; on shutdown the job
 * goes back to the wait list (not counted as an attempt) and resumes from its checkpoint elsewhere.
 *
 * A delivery owns the row from its start: the `attempts` its start wrote. When BullMQ delivers the job
 * again while this delivery still runs (its queue lock was lost: event loop starved, Redis away), the
 * newer start takes the row; this delivery's poll sees the row's `attempts` change, aborts the handler
 * with JobTakenOverError and ends without writing to the row (the store refuses its progress, finish
 * and requeue too).
 */
export class JobRunner {
  constructor(
    private readonly store: JobStore,
    private readonly handlers: ReadonlyMap<string, JobHandler>,
    private readonly opts: JobRunnerOptions,
  ) {}

  async run(bullJob: BullJob, token?: string): Promise<unknown> {
    const def = definitionForBullName(bullJob.name);
    const handler = this.handlers.get(bullJob.name);
    if (!def || !handler) return this.refuse(bullJob, 'JOB_UNKNOWN', `no handler for job ${bullJob.name}`);
    const parsed = def.payload.safeParse(bullJob.data);
    if (!parsed.success)
      return this.refuse(
        bullJob,
        'INVALID_JOB_PAYLOAD',
        `invalid payload for ${bullJob.name}: ${parsed.error.message}`,
      );
    // Every definition's payload extends jobRef (ids only), so the parsed payload is at least a JobRef.
    const payload = parsed.data as JobRef;
    const ref: JobRef = { tenantId: payload.tenantId, jobId: payload.jobId };

    let job;
    try {
      job = await this.store.startOrDefer(ref, this.opts.workerId, bullJob, token);
    } catch (e) {
      if (e instanceof JobNotFoundError) throw new UnrecoverableError(e.message);
      throw e;
    }
    if (!job) {
      this.opts.logger.log(`job ${ref.jobId} is already finished; skipping duplicate delivery`);
      return { skipped: true };
    }
    const owner = job.attempts;
    if (job.cancelRequestedAt) {
      await this.store.finish(ref, 'CANCELLED', { message: 'cancelled before it started', owner });
      return { cancelled: true };
    }
    let inputs;
    try {
      inputs = parseRowInputs(def, job);
    } catch (e) {
      if (!(e instanceof InvalidJobInputsError)) throw e;
      await this.store.finish(ref, 'FAILED', { failureCode: e.code, failureReason: e.message, owner });
      throw new UnrecoverableError(e.message);
    }

    // How long the event loop was held at once while this delivery ran (the whole process's loop, so
    // a job running beside it counts too).
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    loopDelay.enable();
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new JobInterruptedError());
    if (this.opts.shutdown.aborted) onShutdown();
    else this.opts.shutdown.addEventListener('abort', onShutdown, { once: true });
    const takenOver = (e: JobTakenOverError) => {
      if (!controller.signal.aborted) controller.abort(e);
    };
    const lockMs = this.opts.lockDurationMs;
    let lockRenewedAt = Date.now();
    const poll = setInterval(() => {
      if (lockMs && token !== undefined && Date.now() - lockRenewedAt >= lockMs / 2) {
        lockRenewedAt = Date.now();
        // 0 when the lock is no longer this delivery's (lost): nothing to do, the row check decides.
        bullJob.extendLock(token, lockMs).catch(() => undefined);
      }
      this.store.heartbeat(ref, owner).then(
        ({ cancelRequested, attempts }) => {
          if (controller.signal.aborted) return;
          // Another delivery started the job since this one did: the row and its cancel are its own.
          if (attempts !== null && attempts !== owner)
            takenOver(
              new JobTakenOverError(
                `job ${ref.jobId} was started again (attempt ${attempts}) after this delivery's start (attempt ${owner})`,
              ),
            );
          else if (cancelRequested) controller.abort(new JobCancelledError());
        },
        () => undefined, // the database may be briefly away; the next poll tries again
      );
    }, this.opts.cancelPollMs ?? 1_000);

    const commits: ((tx: Tx) => Promise<void>)[] = [];
    const ctx: JobContext = {
      payload,
      inputs,
      job,
      owner,
      signal: controller.signal,
      // A replaced delivery's progress is refused; it stops the handler at its next step boundary.
      progress: (p: JobProgress) =>
        this.store.progress(ref, p, 'progress', owner).catch((e: unknown) => {
          if (!(e instanceof JobTakenOverError)) throw e;
          takenOver(e);
        }),
      throwIfStopped: () => {
        if (controller.signal.aborted) throw controller.signal.reason;
      },
      commitOnSuccess: (write) => {
        commits.push(write);
      },
    };

    try {
      // A handler that returns has finished its work (handlers throw at the step boundary after a
      // cancel). A cancel flagged after its last boundary came too late: what it committed (a READY
      // dataset version, a model, an output file) stands, and so does SUCCEEDED.
      const result = (await handler.handle(ctx)) ?? {};
      await this.store.finish(ref, 'SUCCEEDED', {
        result: result as object,
        owner,
        commit: async (tx) => {
          for (const write of commits) await write(tx);
        },
      });
      if (handler.afterSuccess) {
        await handler.afterSuccess(ctx, result).catch((e: unknown) => {
          this.opts.logger.warn(`job ${ref.jobId} succeeded; its clean-up failed: ${describe(e)}`);
        });
      }
      return result;
    } catch (e) {
      try {
        return await this.onFailure(e, controller.signal, ref, owner, bullJob, token);
      } catch (e2) {
        if (!(e2 instanceof JobTakenOverError)) throw e2;
        return this.takenOver(ref, e2);
      }
    } finally {
      clearInterval(poll);
      this.opts.shutdown.removeEventListener('abort', onShutdown);
      // The histogram records a hold when its sampling timer fires late: one timers turn first, or the
      // hold that ended the handler would be missed.
      await sleep(LOOP_SAMPLE_MS + 5);
      loopDelay.disable();
      this.reportLoopHeld(ref, loopDelay.max / 1e6, loopDelay.percentile(99) / 1e6);
    }
  }

  private reportLoopHeld(ref: JobRef, maxMs: number, p99Ms: number): void {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const msg = `job ${ref.jobId}: the event loop was held up to ${s(maxMs)} at once (p99 ${Math.round(p99Ms)} ms)`;
    if (maxMs < (this.opts.loopHeldWarnMs ?? LOOP_HELD_WARN_MS)) return this.opts.logger.log(msg);
    const lock = this.opts.lockDurationMs;
    this.opts.logger.warn(
      `${msg}: the cancel poll, database calls${lock && maxMs >= lock / 2 ? ` and the queue lock's renewal (every ${s(lock / 2)})` : ''} waited that long`,
    );
  }

  /**
   * A delivery that cannot run at all (no handler, payload not valid): fails for good. When the payload
   * still names a job row, that row is recorded FAILED too (with its dependents), so it does not wait
   * forever.
   */
  private async refuse(bullJob: BullJob, code: string, message: string): Promise<never> {
    const ref = jobRef.safeParse(bullJob.data);
    if (ref.success) {
      await this.store
        .finish(ref.data, 'FAILED', { failureCode: code, failureReason: message })
        .catch((e: unknown) => {
          if (!(e instanceof JobNotFoundError)) throw e;
        });
    }
    throw new UnrecoverableError(message);
  }

  /**
   * This delivery was replaced by a newer one (BullMQ delivered the job again after this one lost its
   * queue lock): nothing more is written to the row, which is the newer delivery's. The delivery
   * returns; BullMQ then refuses to complete it (its lock is the newer delivery's or gone: "lock
   * mismatch" / "missing lock", reported as a worker error) and the newer delivery is left alone.
   */
  private takenOver(ref: JobRef, e: JobTakenOverError): { takenOver: true } {
    this.opts.logger.warn(`${e.message}; this delivery stops and leaves the job to the newer one`);
    return { takenOver: true };
  }

  private async onFailure(
    e: unknown,
    signal: AbortSignal,
    ref: JobRef,
    owner: number,
    bullJob: BullJob,
    token?: string,
  ): Promise<unknown> {
    const reason: unknown = signal.aborted ? signal.reason : e;
    if (reason instanceof JobTakenOverError) return this.takenOver(ref, reason);
    if (e instanceof JobTakenOverError) return this.takenOver(ref, e);
    if (reason instanceof JobCancelledError) {
      await this.store.finish(ref, 'CANCELLED', { message: 'cancelled by request', owner });
      return { cancelled: true };
    }
    if (reason instanceof JobInterruptedError) {
      this.opts.logger.warn(`job ${ref.jobId} interrupted by shutdown; returning it to the queue`);
      await this.store.requeue(ref, reason.message, owner);
      await bullJob.moveToWait(token);
      throw new WaitingError();
    }
    // A missing input object fails for good like a PermanentJobError: every retry would read nothing.
    const missing = missingObject(e);
    if (missing) this.opts.logger.error(`job ${ref.jobId} failed for good: ${describe(e)}`);
    const permanent = missing ? new PermanentJobError('INPUT_NOT_FOUND', describe(e)) : e;
    if (permanent instanceof PermanentJobError || permanent instanceof UnrecoverableError) {
      const code = permanent instanceof PermanentJobError ? permanent.code : 'JOB_FAILED';
      await this.store.finish(ref, 'FAILED', { failureCode: code, failureReason: permanent.message, owner });
      throw permanent instanceof UnrecoverableError ? permanent : new UnrecoverableError(permanent.message);
    }
    const attempts = bullJob.opts.attempts ?? 1;
    const last = bullJob.attemptsMade + 1 >= attempts;
    this.opts.logger.error(
      `job ${ref.jobId} attempt ${bullJob.attemptsMade + 1}/${attempts} failed: ${describe(e)}`,
    );
    if (last) {
      await this.store
        .finish(ref, 'FAILED', { failureCode: 'RETRIES_EXHAUSTED', failureReason: describe(e), owner })
        .catch(() => null);
    } else {
      await this.store
        .progress(
          ref,
          { message: `attempt ${bullJob.attemptsMade + 1} failed (${describe(e)}); retrying` },
          'log',
          owner,
        )
        .catch(() => undefined);
    }
    throw e;
  }
}
