import { Inject, Injectable } from '@nestjs/common';
import { JOBS, type TrainingOptions } from '@modelsmith/contracts';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import { JobStore, TrialStore, type TypedTrial } from '@modelsmith/jobs';
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
  runSearch,
  type BestModel,
  type LedgerTrial,
  type SearchResult,
  type TrialLedger,
} from './search-runner';

/** Trials of an 'auto' job when the budget does not cap them. */
export const AUTO_MAX_TRIALS = 12;
/** ASHA rungs in epochs (1, 3, 9) unless the job set `options.epochs` (then the top rung). */
const RUNGS = { minResource: 1, maxResource: 9, eta: 3 };
const PROGRESS_EVERY_MS = 2_000;
/**
 * How the search draws new configurations. TPE (proposal.ts) beats random draws on a synthetic
 * objective (libs/ml/src/search/tpe.spec.ts) but has not been shown to pay on real data at the
 * trial counts a job runs (docs/training.md), so jobs draw at random.
 */
export const SEARCH_SAMPLER: SearchSampler = 'random';

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

function ledgerTrial(t: TypedTrial): LedgerTrial {
  return {
    index: t.index,
    status: t.status,
    params: t.params,
    metrics: t.metrics,
    costSeconds: t.costSeconds,
    artifactPrefix: t.artifactPrefix,
  };
}

/**
 * Runs a TRAIN job in 'auto' mode: the search (search-runner.ts) with its trials recorded in the
 * `trials` table, checkpoints and trial models in the object store under the job's keys, progress
 * and trial events on the job.
 */
@Injectable()
export class AutoSearchJob {
  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly trials: TrialStore,
    private readonly jobs: JobStore,
  ) {}

  async run(
    ctx: JobContext<typeof JOBS.train>,
    a: AutoSearchInput,
  ): Promise<{ result: SearchResult; history: Array<EpochLog & { phase: string }> }> {
    const { tenantId, jobId } = ctx.payload;
    const ledger: TrialLedger = {
      all: async () => (await this.trials.all(tenantId, jobId)).map(ledgerTrial),
      start: async (i, params) => ledgerTrial(await this.trials.start(tenantId, jobId, i, params)),
      progress: (i, curves, costSeconds) =>
        this.trials.progress(tenantId, jobId, i, {
          curves: curves as unknown as Parameters<TrialStore['progress']>[3]['curves'],
          costSeconds,
        }),
      finish: (i, f) =>
        this.trials.finish(tenantId, jobId, i, {
          ...f,
          curves: f.curves as unknown as Parameters<TrialStore['progress']>[3]['curves'],
        }),
      choose: (i) => this.trials.chooseModel(tenantId, jobId, i, jobId),
      release: (i) => this.trials.releaseArtifacts(tenantId, jobId, i),
    };
    const specs = builtinBackbones();
    const top = a.options.epochs ?? RUNGS.maxResource;
    let lastProgress = 0;
    const result = await runSearch(
      {
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
        ...(a.deadline !== undefined ? { deadline: a.deadline } : {}),
        fit: a.fit,
        ...(a.threads !== undefined ? { threads: a.threads } : {}),
        ...(a.nativeBlas !== undefined ? { nativeBlas: a.nativeBlas } : {}),
        ledger,
        checkpoints: objectCheckpointStore(this.store, tenantId, jobId),
        writer: objectArtifactWriter(this.store),
        reader: objectArtifactReader(this.store),
        trialPrefix: (i) => keys.jobTrialModel(tenantId, jobId, i),
        modelPrefix: a.modelPrefix,
        ...(a.options.constraints ? { constraints: a.options.constraints } : {}),
        removeTrialModel: async (i) => {
          await this.store.deletePrefix(keys.jobTrialModel(tenantId, jobId, i));
        },
      },
      {
        signal: a.signal,
        isBudgetStop: a.isBudgetStop,
        onProgress: async (p) => {
          a.checkBudget?.();
          if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
          lastProgress = Date.now();
          const t = p.train;
          await ctx.progress({
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
          await this.jobs.progress(
            ctx.payload,
            {
              stage: 'training',
              message: `trial ${trial} ${phase} epoch ${log.epoch + 1}: loss ${log.loss.toFixed(4)}${log.val_accuracy !== undefined ? `, val_accuracy ${log.val_accuracy.toFixed(4)}` : ''}`,
              data: { ...log, phase, trial },
            },
            'metrics',
          );
        },
        onTrial: (t) =>
          ctx.progress({ stage: 'training', message: t.message, data: { trial: t.index, status: t.status } }),
        onBest: async (b) => {
          await a.saveModel(b);
          const best = (await this.trials.all(tenantId, jobId)).find((t) => t.index === b.trial);
          await this.jobs.update(ctx.payload, {
            metricHistory: best?.curves ?? [],
            bestMetric: b.report.accuracy,
          });
        },
      },
    );
    const best = (await this.trials.all(tenantId, jobId)).find((t) => t.index === result.best.trial);
    return { result, history: (best?.curves ?? []) as unknown as Array<EpochLog & { phase: string }> };
  }
}
