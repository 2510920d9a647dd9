import { Inject, Injectable, Logger } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import {
  JOBS,
  TRIAL_JOB,
  TRIAL_QUEUE,
  trialJobId,
  type JobRef,
  type TrainingOptions,
} from '@modelsmith/contracts';
import type { JobProgress } from '@modelsmith/jobs';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import { JobStore, TrialStore } from '@modelsmith/jobs';
import type { EpochLog, ModelZoo } from '@modelsmith/ml';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { builtinBackbones } from '@modelsmith/ml/catalogue';
import {
  objectArtifactReader,
  objectArtifactWriter,
  objectCheckpointStore,
} from '../../adapters/object-store-io';
import type { JobContext } from '../../runtime/job-handler';
import type { DatasetShape } from '../recipe';
import type { SearchSampler } from './proposal';
import { firstBackbone, searchBackbones } from './recipe-space';
import {
  describeFinish,
  runDispatchedTrial,
  runSearch,
  type BestModel,
  type SearchHooks,
  type SearchInput,
  type SearchResult,
  type TrialDispatcher,
} from './search-runner';
import { trialLedger } from './trial-ledger';

/** Trials of an 'auto' job when the budget does not cap them. */
export const AUTO_MAX_TRIALS = 12;
/** ASHA rungs in epochs (1, 3, 9) unless the job set `options.epochs` (then the top rung). */
const RUNGS = { minResource: 1, maxResource: 9, eta: 3 };
const PROGRESS_EVERY_MS = 2_000;
/**
 * How the search draws new configurations: TPE (proposal.ts). On real data at a job's 12 trials
 * (bench/search-sampler.ts: food photos and Tux Paint stamps, paired by seed) its best validation
 * accuracy was never below random draws' and higher on average, at more CPU (docs/training.md).
 */
export const SEARCH_SAMPLER: SearchSampler = 'tpe';

export interface AutoSearchInput {
  index: ImageShardIndex;
  shards: ShardSource;
  zoo: ModelZoo;
  shape: DatasetShape;
  options: TrainingOptions;
  maxTrials?: number;
  /** Aborted on cancel, shutdown or budget end. */
  signal: AbortSignal;
  isBudgetStop(reason: unknown): boolean;
  deadline?: number;
  /** Called at every progress report: aborts `signal` once the budget's deadline has passed. */
  checkBudget?(): void;
  fit: 'cover' | 'contain' | 'fill';
  threads?: number;
  nativeBlas?: boolean;
  modelPrefix: string;
  /** Saves the job's model row (the handler's): a better trial's model, and the final one. */
  saveModel(b: BestModel): Promise<void>;
}

/** What a search and its trials train with (the TRAIN job's dataset, options and budget). */
export type SearchSetup = Omit<AutoSearchInput, 'signal' | 'isBudgetStop' | 'checkBudget' | 'saveModel'>;

/**
 * Runs a TRAIN job in 'auto' mode: the search (search-runner.ts) with its trials recorded in the
 * `trials` table, checkpoints and trial models in the object store under the job's keys, progress
 * and trial events on the job.
 */
@Injectable()
export class AutoSearchJob {
  private readonly log = new Logger(AutoSearchJob.name);

  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(getQueueToken(TRIAL_QUEUE)) private readonly trialQueue: Queue,
    private readonly trials: TrialStore,
    private readonly jobs: JobStore,
  ) {}

  /** Trials as child jobs on the trial queue (SEARCH_TRIALS=queue), the parent's id in their payload. */
  private dispatcher(ref: JobRef): TrialDispatcher {
    const q = this.trialQueue;
    const id = (i: number) => trialJobId(ref.jobId, i);
    return {
      slots: async () => Math.max(1, await q.getWorkersCount()) * this.config.TRIAL_CONCURRENCY,
      dispatch: async (i) => {
        await q.add(
          `${TRIAL_JOB.name}@v${TRIAL_JOB.version}`,
          { tenantId: ref.tenantId, jobId: ref.jobId, index: i },
          {
            jobId: id(i),
            attempts: 3,
            backoff: { type: 'exponential', delay: 5_000 },
            removeOnComplete: true,
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        );
      },
      state: async (i) => {
        const job = await q.getJob(id(i));
        if (!job) return 'missing';
        const state = await job.getState();
        if (state === 'failed') return { failed: job.failedReason || 'failed' };
        if (state === 'completed' || state === 'unknown') return 'missing';
        return state === 'active' ? 'running' : 'queued';
      },
      // The parent's heartbeat charges its wall time; while it only waits, its trials charge theirs.
      waited: (seconds) => this.jobs.uncharge(ref, seconds).catch(() => undefined),
      abandon: async (indices) => {
        for (const i of indices) {
          const job = await q.getJob(id(i));
          // A running job is locked by its worker: that worker sees the cancel and ends the trial.
          if (job && !(await job.isActive())) await job.remove().catch(() => undefined);
        }
      },
    };
  }

  /** What the search and each of its trials (on any worker) run with. */
  private searchInput(tenantId: string, jobId: string, a: SearchSetup): SearchInput {
    const specs = builtinBackbones();
    const top = a.options.epochs ?? RUNGS.maxResource;
    return {
      index: a.index,
      shards: a.shards,
      zoo: a.zoo,
      shape: a.shape,
      options: a.options,
      backbones: searchBackbones(a.options.backbone, specs, a.shape),
      firstBackbone: firstBackbone(a.options, a.shape),
      maxTrials: a.maxTrials ?? AUTO_MAX_TRIALS,
      asha: { ...RUNGS, maxResource: Math.max(RUNGS.minResource, top) },
      seed: a.options.seed ?? 1234,
      sampler: SEARCH_SAMPLER,
      defaultTrial: this.config.SEARCH_DEFAULT_TRIAL === 'on',
      continuation: this.config.SEARCH_CONTINUATION === 'on',
      ...(a.deadline !== undefined ? { deadline: a.deadline } : {}),
      fit: a.fit,
      ...(a.threads !== undefined ? { threads: a.threads } : {}),
      ...(a.nativeBlas !== undefined ? { nativeBlas: a.nativeBlas } : {}),
      ledger: trialLedger(this.trials, tenantId, jobId),
      checkpoints: objectCheckpointStore(this.store, tenantId, jobId),
      writer: objectArtifactWriter(this.store),
      reader: objectArtifactReader(this.store),
      trialPrefix: (i) => keys.jobTrialModel(tenantId, jobId, i),
      modelPrefix: a.modelPrefix,
      ...(a.options.constraints ? { constraints: a.options.constraints } : {}),
      removeTrialModel: async (i) => {
        await this.store.deletePrefix(keys.jobTrialModel(tenantId, jobId, i));
      },
    };
  }

  /**
   * Progress, epoch and trial events of a search's trials on the job (the search's or a trial
   * worker's). `owner`: the search's own delivery (JobContext.owner), whose epoch events a newer start
   * of the job refuses; a trial worker's delivery is of another job and passes none.
   */
  private trialHooks(
    ref: JobRef,
    a: Pick<AutoSearchInput, 'signal' | 'isBudgetStop' | 'checkBudget'>,
    progress: (p: JobProgress) => Promise<void>,
    owner?: number,
  ): Omit<SearchHooks, 'onBest'> {
    let lastProgress = 0;
    return {
      signal: a.signal,
      isBudgetStop: a.isBudgetStop,
      onProgress: async (p) => {
        a.checkBudget?.();
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        const t = p.train;
        await progress({
          stage: 'training',
          percent: Math.min(99, ((p.trial + p.percent / 100) / p.trials) * 100),
          data: {
            trial: p.trial,
            epoch: t.epoch + 1,
            epochs: t.epochs,
            step: t.step,
            loss: t.loss,
            metrics: t.metrics,
            samplesPerSec: Math.round(t.samplesPerSec),
          },
        });
      },
      onEpoch: async (trial, phase, log) => {
        await this.jobs.progress(ref, epochEvent(trial, phase, log), 'metrics', owner);
      },
      onEpochs: async (trial, phase, logs) => {
        await this.jobs.progressMany(
          ref,
          logs.map((log) => epochEvent(trial, phase, log)),
          'metrics',
          owner,
        );
      },
      onTrial: (t) =>
        progress({ stage: 'training', message: t.message, data: { trial: t.index, status: t.status } }),
    };
  }

  async run(
    ctx: JobContext<typeof JOBS.train>,
    a: AutoSearchInput,
  ): Promise<{ result: SearchResult; history: Array<EpochLog & { phase: string }> }> {
    const { tenantId, jobId } = ctx.payload;
    const result = await runSearch(
      {
        ...this.searchInput(tenantId, jobId, a),
        ...(this.config.SEARCH_TRIALS === 'queue' ? { dispatcher: this.dispatcher(ctx.payload) } : {}),
      },
      {
        ...this.trialHooks(ctx.payload, a, (p) => ctx.progress(p), ctx.owner),
        onStage: (message) => ctx.progress({ stage: 'evaluating', message }),
        onBest: async (b) => {
          await a.saveModel(b);
          const best = (await this.trials.all(tenantId, jobId)).find((t) => t.index === b.trial);
          await this.jobs.update(
            ctx.payload,
            { metricHistory: best?.curves ?? [], bestMetric: b.report.accuracy },
            ctx.owner,
          );
        },
      },
    );
    this.log.log(`job ${jobId}: after the trials: ${describeFinish(result.finish)}`);
    const best = (await this.trials.all(tenantId, jobId)).find((t) => t.index === result.best.trial);
    return { result, history: (best?.curves ?? []) as unknown as Array<EpochLog & { phase: string }> };
  }

  /**
   * Trains trial `index` of the search of job `ref` (a trial queue job, on whichever worker took it):
   * claims its row (recording this worker), trains it with the search's settings, records its end.
   * 'skipped' when the row is already finished (a duplicate delivery) or gone.
   */
  async runTrial(
    ref: JobRef,
    index: number,
    workerId: string,
    onClaimed: (() => void) | undefined,
    a: SearchSetup & Pick<AutoSearchInput, 'signal' | 'isBudgetStop' | 'checkBudget'>,
  ): Promise<'done' | 'budget' | 'skipped'> {
    const claimed = await this.trials.claim(ref.tenantId, ref.jobId, index, workerId);
    if (!claimed) return 'skipped';
    onClaimed?.();
    const started = Date.now();
    const out = await runDispatchedTrial(
      // This worker's progress and end count only while it holds the trial (its last claimant).
      {
        ...this.searchInput(ref.tenantId, ref.jobId, a),
        ledger: trialLedger(this.trials, ref.tenantId, ref.jobId, workerId),
      },
      this.trialHooks(ref, a, (p) => this.jobs.progress(ref, p)),
      index,
    );
    // The trial's compute counts against its job (the tenant's quota); the search's waiting does not.
    await this.jobs
      .update(ref, { computeSeconds: { increment: (Date.now() - started) / 1000 } })
      .catch(() => undefined);
    return out;
  }
}

/** The job's `metrics` event of a trial's epoch. */
function epochEvent(trial: number, phase: string, log: EpochLog) {
  return {
    stage: 'training',
    message: `trial ${trial} ${phase} epoch ${log.epoch + 1}: loss ${log.loss.toFixed(4)}${log.val_accuracy !== undefined ? `, val_accuracy ${log.val_accuracy.toFixed(4)}` : ''}`,
    data: { ...log, phase, trial },
  };
}
