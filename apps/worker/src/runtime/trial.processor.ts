import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnModuleInit } from '@nestjs/common';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { TRIAL_JOB, TRIAL_QUEUE } from '@modelsmith/contracts';
import {
  JobCancelledError,
  JobInterruptedError,
  JobStore,
  PermanentJobError,
  TrialStore,
} from '@modelsmith/jobs';
import { TrainHandler } from '../handlers/train.handler';
import { WORKER_ID } from './job-runner.service';
import { workerOptions } from './processors';
import { ShutdownSignal } from './shutdown-signal';

const CANCEL_POLL_MS = 1_000;
/** A parent job in these states keeps its trials going (QUEUED: its search was handed to another worker). */
const LIVE: readonly string[] = ['RUNNING', 'QUEUED'];

/**
 * Another delivery claimed the trial (this one lost its queue lock, e.g. its event loop stalled, and
 * BullMQ delivered the trial again, to another worker or to this one): it stops.
 */
class TrialTakenOverError extends Error {}

/** Deliveries of trials this process has started: each claims its trial as `WORKER_ID/<n>`. */
let deliveries = 0;

/**
 * Search trials as BullMQ child jobs (TRIAL_QUEUE): a search on any worker records a trial in the
 * `trials` table and enqueues it here; this worker trains it (TrainHandler.runTrial) and records its
 * end there, where the search reads it. Up to TRIAL_CONCURRENCY at once per process. A trial ends
 * with its job: a cancelled (or otherwise finished) parent job aborts it. A killed worker's trial
 * stalls, BullMQ hands it to another worker, and it resumes from its checkpoints; a finished trial
 * is never trained again (a duplicate delivery finds its row finished and does nothing).
 */
@Processor(TRIAL_QUEUE, workerOptions)
export class TrialProcessor extends WorkerHost implements OnModuleInit {
  private readonly logger = new Logger('Trials');

  constructor(
    private readonly train: TrainHandler,
    private readonly jobs: JobStore,
    private readonly trials: TrialStore,
    private readonly shutdown: ShutdownSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.TRIAL_CONCURRENCY;
  }

  async process(job: Job, token?: string): Promise<unknown> {
    const parsed = TRIAL_JOB.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid trial payload: ${parsed.error.message}`);
    const t = parsed.data;
    const ref = { tenantId: t.tenantId, jobId: t.jobId };
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new JobInterruptedError());
    if (this.shutdown.signal.aborted) onShutdown();
    else this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    // The parent job's cancel (or its end) ends the trial; so does another delivery's claim of it (a
    // trial trains in one delivery at a time: the one that claimed it last, resuming from checkpoints).
    // The claimant names the delivery, not only the process: two deliveries of one trial can run in
    // the same process (its lock lost while it trained, BullMQ delivered it to this worker again).
    const claimant = `${WORKER_ID}/${++deliveries}`;
    let claimed = false;
    // BullMQ renews the queue lock too, but keyed by job id: a replaced delivery ending in this
    // process would stop the renewal of the newer one (which would then stall and be taken over).
    const lockMs = workerOptions.lockDuration;
    let lockRenewedAt = Date.now();
    const poll = setInterval(() => {
      if (token !== undefined && Date.now() - lockRenewedAt >= lockMs / 2) {
        lockRenewedAt = Date.now();
        job.extendLock(token, lockMs).catch(() => undefined);
      }
      Promise.all([
        this.jobs.get(ref.tenantId, ref.jobId),
        claimed ? this.trials.get(ref.tenantId, ref.jobId, t.index) : Promise.resolve(null),
      ]).then(
        ([row, trial]) => {
          if (controller.signal.aborted) return;
          if (!row || row.cancelRequestedAt || !LIVE.includes(row.status))
            controller.abort(new JobCancelledError());
          else if (trial && trial.workerId !== claimant)
            // Claimed by another delivery (running it, or already done with it): this one's progress and
            // end would not be recorded anyway, and its files would overwrite the other's.
            controller.abort(new TrialTakenOverError(`trial ${t.index} was claimed by ${trial.workerId}`));
          else if (trial && trial.status !== 'RUNNING' && trial.status !== 'PENDING')
            controller.abort(new TrialTakenOverError(`trial ${t.index} was ended (${trial.status})`));
        },
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    try {
      const outcome = await this.train.runTrial(ref, t.index, claimant, controller.signal, () => {
        claimed = true;
      });
      this.logger.log(`job ${ref.jobId} trial ${t.index}: ${outcome}`);
      return { outcome };
    } catch (e) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : e;
      if (reason instanceof JobCancelledError) return { outcome: 'cancelled' };
      if (reason instanceof TrialTakenOverError) {
        this.logger.warn(`job ${ref.jobId}: ${reason.message}; this worker stops it`);
        return { outcome: 'taken-over' };
      }
      if (reason instanceof JobInterruptedError) {
        // The row stays RUNNING: the next worker resumes the trial from its checkpoints.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const last = e instanceof PermanentJobError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const message = e instanceof Error ? e.message : String(e);
      this.logger.error(
        `job ${ref.jobId} trial ${t.index} attempt ${job.attemptsMade + 1} failed: ${message}`,
      );
      if (last) {
        await this.trials
          .finish(ref.tenantId, ref.jobId, t.index, {
            status: 'FAILED',
            metrics: { error: message.slice(0, 2000) },
            costSeconds: 0,
          })
          .catch(() => false);
        throw new UnrecoverableError(message);
      }
      throw e;
    } finally {
      clearInterval(poll);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn(`trial queue connection error: ${error.message}`);
  }
}
