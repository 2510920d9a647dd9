import type { TrainingOptions } from '@modelsmith/contracts';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import {
  ashaCandidates,
  bestOutcome,
  EXPORT_MANIFEST_FILE,
  evaluateModel,
  loadExportedModel,
  sampleAt,
  type ArtifactReader,
  type ArtifactWriter,
  type AshaOptions,
  type BackboneSpec,
  type CheckpointStore,
  type EpochLog,
  type EvaluationReport,
  type ExportManifest,
  type ModelZoo,
  type RungOutcome,
  type TrainProgress,
} from '@modelsmith/ml';
import { JobCancelledError, PermanentJobError } from '@modelsmith/jobs';
import { runImageClassification, type PipelineModel } from '../image-classification';
import type { DatasetShape, Recipe } from '../recipe';
import { shardEpochs, splitCount } from '../shard-batches';
import {
  configFromParams,
  firstConfig,
  recipeSearchSpace,
  trialRecipe,
  type TrialConfig,
} from './recipe-space';

export type TrialStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'PRUNED';
type Json = string | number | boolean | null;

/** A trial as the search reads it back from its ledger (the `trials` table). */
export interface LedgerTrial {
  index: number;
  status: TrialStatus;
  params: Record<string, Json>;
  metrics: Record<string, number | string | null> | null;
  costSeconds: number;
  artifactPrefix: string | null;
}

/** Where trials are recorded (Postgres in the worker): the search's whole state survives a crash. */
export interface TrialLedger {
  all(): Promise<LedgerTrial[]>;
  start(index: number, params: Record<string, Json>): Promise<LedgerTrial>;
  progress(index: number, curves: Array<EpochLog & { phase: string }>, costSeconds: number): Promise<void>;
  finish(
    index: number,
    f: {
      status: 'SUCCEEDED' | 'FAILED' | 'PRUNED';
      metrics: Record<string, number | string | null>;
      curves: Array<EpochLog & { phase: string }>;
      costSeconds: number;
      artifactPrefix?: string;
    },
  ): Promise<boolean>;
  /** Trial `index`'s model is now the job's model. */
  choose(index: number): Promise<void>;
}

export interface SearchInput {
  index: ImageShardIndex;
  shards: ShardSource;
  zoo: ModelZoo;
  shape: DatasetShape;
  options: TrainingOptions;
  /** The backbones to search over (the first trial uses `firstBackbone`). */
  backbones: string[];
  firstBackbone: string;
  maxTrials: number;
  /** Rungs in epochs (ASHA). */
  asha: AshaOptions;
  seed: number;
  /** When the budget ends (ms since the epoch); trials that would not finish by then are not started. */
  deadline?: number;
  fit: 'cover' | 'contain' | 'fill';
  /** Threads each trial trains on (TRAIN_THREADS) and whether its replicas may use the BLAS addon. */
  threads?: number;
  nativeBlas?: boolean;
  ledger: TrialLedger;
  checkpoints: CheckpointStore;
  writer: ArtifactWriter;
  reader: ArtifactReader;
  /** Where trial `i` exports its model. */
  trialPrefix(i: number): string;
  /** The job's model (the best trial's model is copied here). */
  modelPrefix: string;
  now?: () => number;
}

export interface LeaderboardEntry {
  trial: number;
  status: TrialStatus;
  validationAccuracy: number | null;
  epochs: number | null;
  costSeconds: number;
  params: Record<string, Json>;
}

export interface BestModel {
  trial: number;
  recipe: Recipe;
  manifest: ExportManifest;
  /** On the split named in `report.split`: 'validation' while searching, 'test' for the final model. */
  report: EvaluationReport & { split: string };
  leaderboard: LeaderboardEntry[];
  final: boolean;
}

export interface SearchHooks {
  signal: AbortSignal;
  /** True when an abort means the budget ended: stop and keep the best model so far. */
  isBudgetStop(reason: unknown): boolean;
  onProgress(p: { trial: number; trials: number; percent: number; train: TrainProgress }): Promise<void>;
  onEpoch(trial: number, phase: string, log: EpochLog): Promise<void>;
  /** A trial started or ended. */
  onTrial(t: {
    index: number;
    status: TrialStatus;
    message: string;
    params: Record<string, Json>;
  }): Promise<void>;
  /** A better model on validation (copied to the job's model prefix), or the final one with its test report. */
  onBest(b: BestModel): Promise<void>;
}

export interface SearchResult {
  status: 'completed' | 'stopped-by-budget';
  best: BestModel;
  trials: LedgerTrial[];
  /** Trials run by this attempt (not the ones an earlier attempt recorded). */
  ran: number[];
  resumedTrial?: number;
}

const score = (t: LedgerTrial): number | null =>
  t.status === 'SUCCEEDED' && typeof t.metrics?.validationAccuracy === 'number' && t.artifactPrefix
    ? t.metrics.validationAccuracy
    : null;

const num = (v: Json | undefined): number => (typeof v === 'number' ? v : Number(v));

/** The leaderboard: finished trials by validation accuracy (failed and pruned ones last). */
export function leaderboard(trials: LedgerTrial[], top = 20): LeaderboardEntry[] {
  return trials
    .filter((t) => t.status !== 'RUNNING' && t.status !== 'PENDING')
    .map((t) => ({
      trial: t.index,
      status: t.status,
      validationAccuracy: score(t),
      epochs: typeof t.metrics?.epochs === 'number' ? t.metrics.epochs : null,
      costSeconds: Math.round(t.costSeconds * 10) / 10,
      params: t.params,
    }))
    .sort((a, b) => (b.validationAccuracy ?? -1) - (a.validationAccuracy ?? -1) || a.trial - b.trial)
    .slice(0, top);
}

/**
 * Seconds a trial of `c` over `epochs` would take, from finished trials of the same backbone
 * (scaled by input pixels and epochs); undefined when there is none yet.
 */
export function estimateSeconds(trials: LedgerTrial[], c: TrialConfig, epochs: number): number | undefined {
  const rates = trials
    .filter(
      (t) =>
        t.params.backbone === c.backbone &&
        t.status === 'SUCCEEDED' &&
        t.costSeconds > 0 &&
        num(t.metrics?.epochs ?? null) > 0,
    )
    .map((t) => t.costSeconds / (num(t.metrics?.epochs ?? null) * num(t.params.inputSize) ** 2))
    .sort((a, b) => a - b);
  if (rates.length === 0) return undefined;
  return rates[Math.floor(rates.length / 2)] * epochs * c.inputSize ** 2;
}

interface Planned {
  config: number;
  rung: number;
  epochs: number;
  c: TrialConfig;
}

/**
 * Hyper-parameter search for image classification: trial 0 trains the default recipe's choices for
 * the bottom rung's epochs (a usable model early), then ASHA decides between promoting a
 * configuration to more epochs and sampling a new one (seeded, `sampleAt`), skipping moves whose
 * measured cost would overrun the budget. Trials are scored on the validation split; the best one's
 * model becomes the job's model as soon as it is best, and at the end it alone is evaluated on the
 * test split. Every trial is recorded in the ledger before it starts and once when it ends: a
 * restarted search resumes a RUNNING trial from its checkpoints and never re-runs a finished one.
 */
export async function runSearch(input: SearchInput, hooks: SearchHooks): Promise<SearchResult> {
  const now = input.now ?? Date.now;
  if (splitCount(input.index, 'validation') === 0)
    throw new PermanentJobError(
      'NO_VALIDATION_SPLIT',
      'a search needs a validation split to compare trials on',
    );
  const space = recipeSearchSpace(input.backbones);
  const specs = new Map<string, BackboneSpec>();
  const spec = (id: string) => {
    let s = specs.get(id);
    if (!s) specs.set(id, (s = input.zoo.get(id)));
    return s;
  };
  let trials = await input.ledger.all();
  const ran: number[] = [];
  let resumedTrial: number | undefined;
  let stoppedByBudget = false;
  /** The finished trial with the best validation accuracy (ties: more epochs, then the earlier trial). */
  const bestTrial = (): LedgerTrial | undefined => {
    const b = bestOutcome(
      trials.map((t) => ({ config: t.index, rung: num(t.params.rung), score: score(t) })),
    );
    return b ? trials.find((t) => t.index === b.config) : undefined;
  };

  const plan = (): Planned | undefined => {
    const running = trials.find((t) => t.status === 'RUNNING' || t.status === 'PENDING');
    if (running) {
      resumedTrial = running.index;
      return {
        config: num(running.params.config),
        rung: num(running.params.rung),
        epochs: num(running.params.epochs),
        c: running.params as unknown as TrialConfig,
      };
    }
    if (trials.length >= input.maxTrials) return undefined;
    const rungs = input.asha;
    if (trials.length === 0)
      return {
        config: 0,
        rung: 0,
        epochs: rungs.minResource,
        c: firstConfig(spec(input.firstBackbone), input.shape, input.options),
      };
    const left = input.deadline !== undefined ? (input.deadline - now()) / 1000 : Infinity;
    const fits = (c: TrialConfig, epochs: number) => (estimateSeconds(trials, c, epochs) ?? 0) <= left;
    const configOf = (config: number): TrialConfig => {
      const t = trials.find((x) => num(x.params.config) === config);
      if (t) return t.params as unknown as TrialConfig;
      const p = sampleAt(space, input.seed, config);
      return configFromParams(p, spec(String(p.backbone)), input.shape);
    };
    let nextConfig = Math.max(...trials.map((t) => num(t.params.config))) + 1;
    for (const d of ashaCandidates(rungs, outcomes(trials))) {
      if (d.kind === 'promote') {
        const c = configOf(d.config);
        if (fits(c, d.resource)) return { config: d.config, rung: d.rung, epochs: d.resource, c };
        continue;
      }
      // A new configuration: the next draws until one fits what is left of the budget.
      for (let tries = 0; tries < 8; tries++, nextConfig++) {
        const c = configOf(nextConfig);
        if (fits(c, d.resource)) return { config: nextConfig, rung: 0, epochs: d.resource, c };
      }
    }
    return undefined;
  };

  for (;;) {
    if (hooks.signal.aborted) {
      const reason: unknown = hooks.signal.reason;
      if (!hooks.isBudgetStop(reason)) throw reason;
      stoppedByBudget = true;
      break;
    }
    const next = plan();
    if (!next) break;
    const existing = trials.find((t) => t.status === 'RUNNING' || t.status === 'PENDING');
    const index = existing?.index ?? trials.length;
    const stop = await runTrial(input, hooks, index, next, existing !== undefined, spec, bestTrial());
    ran.push(index);
    trials = await input.ledger.all();
    if (stop === 'budget') {
      stoppedByBudget = true;
      break;
    }
  }

  const winner = bestTrial();
  if (!winner)
    throw new PermanentJobError(
      'NO_TRIAL_SUCCEEDED',
      `none of the ${trials.length} trials produced a model: ${trials.map((t) => `#${t.index} ${String(t.metrics?.error ?? t.status)}`).join('; ')}`,
    );
  const best = await finalEvaluation(input, winner, spec(String(winner.params.backbone)), trials);
  await hooks.onBest(best);
  return {
    status: stoppedByBudget ? 'stopped-by-budget' : 'completed',
    best,
    trials,
    ran,
    ...(resumedTrial !== undefined ? { resumedTrial } : {}),
  };
}

function outcomes(trials: LedgerTrial[]): RungOutcome[] {
  return trials
    .filter((t) => t.status !== 'RUNNING' && t.status !== 'PENDING')
    .map((t) => ({ config: num(t.params.config), rung: num(t.params.rung), score: score(t) }));
}

function paramsOf(p: Planned): Record<string, Json> {
  const c = p.c;
  return {
    config: p.config,
    rung: p.rung,
    epochs: p.epochs,
    backbone: c.backbone,
    inputSize: c.inputSize,
    learningRate: c.learningRate,
    weightDecay: c.weightDecay,
    batchSize: c.batchSize,
    augmentation: c.augmentation,
    regularizer: c.regularizer,
    regularizerAlpha: c.regularizerAlpha,
  };
}

/** Runs one trial to its end; 'budget' when the budget ended it. */
async function runTrial(
  input: SearchInput,
  hooks: SearchHooks,
  index: number,
  p: Planned,
  resumed: boolean,
  spec: (id: string) => BackboneSpec,
  best: LedgerTrial | undefined,
): Promise<'done' | 'budget'> {
  const now = input.now ?? Date.now;
  const params = paramsOf(p);
  const recorded = await input.ledger.start(index, params);
  const backbone = spec(p.c.backbone);
  const recipe = trialRecipe(backbone, input.shape, p.c, p.epochs, input.options);
  const curves: Array<EpochLog & { phase: string }> = [];
  let lastCost = now();
  const costSince = () => {
    const t = now();
    const s = (t - lastCost) / 1000;
    lastCost = t;
    return s;
  };
  const describe = `${p.c.backbone} @${p.c.inputSize}px, lr ${p.c.learningRate.toPrecision(2)}, wd ${p.c.weightDecay}, batch ${p.c.batchSize}, aug ${p.c.augmentation}${p.c.regularizer !== 'none' ? `, l2sp ${p.c.regularizerAlpha.toPrecision(2)}` : ''}, ${p.epochs} epochs`;
  await hooks.onTrial({
    index,
    status: 'RUNNING',
    params: recorded.params,
    message: `trial ${index} ${resumed ? 'resumed' : 'started'}: ${describe}`,
  });
  const prefix = input.trialPrefix(index);
  let result: Awaited<ReturnType<typeof runImageClassification>>;
  try {
    result = await runImageClassification(
      {
        index: input.index,
        shards: input.shards,
        zoo: input.zoo,
        spec: backbone,
        recipe,
        checkpoints: input.checkpoints,
        checkpointKeyPrefix: `trial-${index}-`,
        writer: input.writer,
        modelPrefix: prefix,
        fit: input.fit,
        ...(input.threads !== undefined ? { threads: input.threads } : {}),
        ...(input.nativeBlas !== undefined ? { nativeBlas: input.nativeBlas } : {}),
        evaluateOn: 'validation',
      },
      {
        signal: hooks.signal,
        // The first model is kept even when the budget cuts it short: it may be all the job has.
        keepModelOnStop: (reason) => hooks.isBudgetStop(reason) && !best,
        onProgress: (pp) =>
          hooks.onProgress({ trial: index, trials: input.maxTrials, percent: pp.percent, train: pp.train }),
        onEpoch: async (phase, log) => {
          curves.push({ ...log, phase });
          await input.ledger.progress(index, curves, costSince());
          await hooks.onEpoch(index, phase, log);
        },
        onModel: async () => {},
      },
    );
  } catch (error) {
    if (error instanceof PermanentJobError) {
      await input.ledger.finish(index, {
        status: 'FAILED',
        metrics: { error: `${error.code}: ${error.message}` },
        curves,
        costSeconds: costSince(),
      });
      await hooks.onTrial({
        index,
        status: 'FAILED',
        params,
        message: `trial ${index} failed: ${error.message}`,
      });
      return 'done';
    }
    const reason: unknown = hooks.signal.aborted ? hooks.signal.reason : undefined;
    if (reason !== undefined && error === reason && hooks.isBudgetStop(reason)) {
      await input.ledger.finish(index, {
        status: 'PRUNED',
        metrics: { error: 'stopped by the budget end' },
        curves,
        costSeconds: costSince(),
      });
      await hooks.onTrial({
        index,
        status: 'PRUNED',
        params,
        message: `trial ${index} stopped by the budget end`,
      });
      return 'budget';
    }
    // A cancel ends the trial with the job; a shutdown leaves it RUNNING for the next worker to resume.
    if (reason instanceof JobCancelledError && error === reason)
      await input.ledger.finish(index, {
        status: 'PRUNED',
        metrics: { error: 'the job was cancelled' },
        curves,
        costSeconds: costSince(),
      });
    throw error;
  }
  const m = result.model;
  await input.ledger.finish(index, {
    status: 'SUCCEEDED',
    metrics: {
      validationAccuracy: m.report.accuracy,
      validationLoss: m.report.logLoss,
      macroF1: m.report.macro.f1,
      epochs: curves.length || p.epochs,
      ...(result.status === 'stopped-by-budget' ? { stopped: 'budget' } : {}),
      ...(result.failedPhase ? { failedPhase: result.failedPhase.phase } : {}),
    },
    curves,
    costSeconds: costSince(),
    artifactPrefix: prefix,
  });
  await hooks.onTrial({
    index,
    status: 'SUCCEEDED',
    params,
    message: `trial ${index}: validation accuracy ${(m.report.accuracy * 100).toFixed(2)}% (${describe})`,
  });
  const bestScore = best ? score(best) : null;
  if (bestScore === null || m.report.accuracy > bestScore) {
    await copyModel(input, prefix, input.modelPrefix, m.manifest);
    await input.ledger.choose(index);
    await hooks.onBest({
      trial: index,
      recipe,
      manifest: m.manifest,
      report: m.report as PipelineModel['report'] & { split: string },
      leaderboard: leaderboard(await input.ledger.all()),
      final: false,
    });
  }
  return result.status === 'stopped-by-budget' ? 'budget' : 'done';
}

async function copyModel(
  input: SearchInput,
  from: string,
  to: string,
  manifest: ExportManifest,
): Promise<void> {
  for (const f of manifest.files)
    await input.writer.put(to + f.path, await input.reader.get(from + f.path), contentType(f.path));
  await input.writer.put(
    to + EXPORT_MANIFEST_FILE,
    await input.reader.get(from + EXPORT_MANIFEST_FILE),
    'application/json',
  );
}

const contentType = (path: string) =>
  path.endsWith('.json') ? 'application/json' : 'application/octet-stream';

/**
 * The winner, evaluated once on the test split (the search never looked at it); its manifest's
 * metrics become the test metrics. Falls back to validation when the dataset has no test split.
 */
async function finalEvaluation(
  input: SearchInput,
  winner: LedgerTrial,
  spec: BackboneSpec,
  trials: LedgerTrial[],
): Promise<BestModel> {
  const c = winner.params as unknown as TrialConfig;
  const recipe = trialRecipe(spec, input.shape, c, num(winner.params.epochs), input.options);
  const { model, manifest } = await loadExportedModel(input.reader, input.modelPrefix);
  try {
    const split = splitCount(input.index, 'test') > 0 ? 'test' : 'validation';
    const data = shardEpochs(
      input.shards,
      input.index,
      split,
      recipe.batchSize,
      spec.normalization,
      recipe.input,
      false,
    );
    const report = await evaluateModel(model, data, {
      classNames: input.index.labels,
      latency: { runs: 10, warmup: 2 },
    });
    const metrics = {
      accuracy: report.accuracy,
      macroF1: report.macro.f1,
      logLoss: report.logLoss,
      testSamples: report.numSamples,
      validationAccuracy: score(winner) ?? 0,
    };
    const final = { ...manifest, metrics };
    await input.writer.put(
      input.modelPrefix + EXPORT_MANIFEST_FILE,
      new TextEncoder().encode(JSON.stringify(final, null, 2)),
      'application/json',
    );
    return {
      trial: winner.index,
      recipe,
      manifest: final,
      report: { ...report, split },
      leaderboard: leaderboard(trials),
      final: true,
    };
  } finally {
    model.dispose();
  }
}
