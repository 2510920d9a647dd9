import type { StageTime } from '../stage-clock';
import { randomUUID } from 'node:crypto';
import type { ModelConstraints, TrainingOptions } from '@modelsmith/contracts';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import {
  archCost,
  ashaCandidates,
  costAwareFitness,
  paretoFront,
  proposeArch,
  rungResources,
  EXPORT_MANIFEST_FILE,
  evaluateModel,
  FEATURE_HEAD_VIEWS,
  loadExportedModel,
  testTimeAveragingOf,
  type ArtifactReader,
  type ArtifactWriter,
  type AshaOptions,
  type BackboneSpec,
  type CheckpointStore,
  type EvolutionMember,
  type EpochLog,
  type EvaluationReport,
  type ExportManifest,
  type ModelZoo,
  type RungOutcome,
  type TrainProgress,
  type DynamicsValues,
} from '@modelsmith/ml';
import { FALLBACK_THROUGHPUT, JobCancelledError, PermanentJobError } from '@modelsmith/jobs';
import { heldOutInput, runImageClassification, type PipelineModel } from '../image-classification';
import { NORMLIME_BUDGET, normLimeReport } from '../normlime-report';
import type { DatasetShape, Recipe } from '../recipe';
import { shardEpochs, splitCount } from '../shard-batches';
import {
  configFromParams,
  defaultRecipeConfig,
  firstConfig,
  firstEpochs,
  promotedConfig,
  NAS_BACKBONE,
  recipeSearchSpace,
  trialRecipe,
  viewsHeadConfig,
  type TrialConfig,
} from './recipe-space';
import {
  finishReserve,
  heldOutFirst,
  LATENCY_FORWARDS,
  planFinish,
  rescaleCosts,
  type FinishCosts,
  type FinishPlan,
} from './finish-budget';
import { proposeParams, type SearchSampler } from './proposal';
import {
  candidateFromMetrics,
  chooseModel,
  labelsKey,
  packCorrect,
  replacesIncumbent,
  type ChoiceCandidate,
} from './model-choice';
import {
  dynamicsFor,
  noDynamics,
  searchLabelQuality,
  writeTrialDynamics,
  type SearchLabelQuality,
} from './search-label-quality';

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
  /** Records trial `index` (RUNNING, or PENDING when it waits for a worker); an existing row is returned as is. */
  start(index: number, params: Record<string, Json>, status?: 'RUNNING' | 'PENDING'): Promise<LedgerTrial>;
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
  /** Trial `index`'s exported model was deleted (retention): its row keeps the metrics, not the files. */
  release(index: number): Promise<void>;
}

/** Where a dispatched trial's queue job is. */
export type DispatchedState = 'queued' | 'running' | 'missing' | { failed: string };

/**
 * Runs trials outside the search's own process (BullMQ child jobs on the trial queue, any worker):
 * the search records a trial PENDING in the ledger, dispatches it, and reads its end back from the
 * ledger, where the worker that trained it recorded it.
 */
export interface TrialDispatcher {
  /** How many trials may train at once now (trial slots listening on the queue), >= 1. */
  slots(): Promise<number>;
  /** Enqueues trial `index` (recorded in the ledger); a no-op when its queue job already exists. */
  dispatch(index: number): Promise<void>;
  /** Where trial `index`'s queue job is: a lost one is dispatched again, a failed one recorded FAILED. */
  state(index: number): Promise<DispatchedState>;
  /** The search ends without them (cancel, failure): removes these trials' jobs that did not start. */
  abandon(indices: number[]): Promise<void>;
  /**
   * The search spent `seconds` only waiting for its trials to report. Trials charge their own compute
   * to the job (on whichever worker trains them), so this time is not charged a second time.
   * Called every ~15 s of waiting and once when the search's loop ends.
   */
  waited?(seconds: number): Promise<void>;
  /** How often the search reads the ledger while trials train (ms; default 1000). */
  pollMs?: number;
  /** How often the search checks the queue jobs of its trials (ms; default 30000). */
  checkMs?: number;
  /** How long after the budget's end the search waits for its trials to stop and report (ms; default 120000). */
  budgetGraceMs?: number;
}

/**
 * A continuation trial's extra epochs (the most of `epochs` down to `minEpochs` whose estimated cost
 * fits the budget left; fewer would average nothing) and its constant learning rate (times the
 * parent recipe's last phase's).
 */
export const CONTINUATION = { epochs: 3, minEpochs: 2, learningRateFactor: 0.1 } as const;

/** Whether a finished trial's model can be continued (a full run whose weights a warm start can take). */
function continuable(t: LedgerTrial): boolean {
  return (
    t.status === 'SUCCEEDED' &&
    t.params.continuationOf === undefined &&
    t.params.headOnly !== true &&
    t.params.backbone !== NAS_BACKBONE &&
    t.params.regularizer !== 'delta' &&
    t.artifactPrefix !== null
  );
}

/** Aging evolution over `nas_cnn` architectures: population and tournament size (Real et al. 2019). */
export const EVOLUTION = { population: 3, sample: 2 } as const;
/** lambda of the fitness: validation accuracy minus lambda per decade of multiply-accumulates. */
export const COST_WEIGHT = 0.02;

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
  /**
   * How new configurations are drawn (default 'random': `sampleAt(space, seed, config)`); 'tpe'
   * proposes them from the finished bottom-rung trials in the ledger (proposal.ts).
   */
  sampler?: SearchSampler;
  /**
   * Trial 1 (after the first model) trains the default recipe exactly (`defaultRecipeConfig`: what a
   * fixed 'balanced' job trains, whatever the budget estimate says; kept when the budget cuts it
   * short, as that job would be), recorded at the top rung; the search continues after it. So when
   * the budget lets that recipe finish after the first model, the search's choice on validation is
   * never below the default recipe's model. Off unless set.
   */
  defaultTrial?: boolean;
  /**
   * Continuation trials: when the best finished trial has none yet and its cost fits what is left of
   * the budget, the next trial warm-starts from its final weights (same configuration) and trains
   * CONTINUATION.epochs (or fewer) more epochs at a low constant learning rate, averaging the weights of those
   * epochs' ends (stochastic weight averaging). Recorded with `params.continuationOf` (the parent's
   * index) and the parent's `config` at the parent's rung (so the configurations drawn after it are
   * those drawn without continuations); it replaces its parent (the incumbent) when it gets more of
   * the validation images right, without the margin other trials need (model-choice.ts), a tie keeps
   * the parent; never promoted by ASHA nor read by TPE. Off unless set.
   */
  continuation?: boolean | { learningRateFactor: number };
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
  /**
   * Where trial `i` exports its model. A dispatched trial exports under `runs/<run id>/` below it, one
   * folder per worker that trains it, so a worker that lost the trial to another's claim never
   * overwrites the model the ledger recorded; `removeTrialModel(i)` removes them all.
   */
  trialPrefix(i: number): string;
  /** The job's model (the best trial's model is copied here). */
  modelPrefix: string;
  /** Limits the chosen model must meet; trials that break them are never chosen nor promoted. */
  constraints?: ModelConstraints;
  /**
   * Deletes trial `i`'s exported model. When the search ends, every trial model that is neither the
   * winner nor on the Pareto front is deleted (its metrics stay). Without it, all are kept.
   */
  removeTrialModel?(i: number): Promise<void>;
  /**
   * Trials as queue jobs (any worker process trains them, several at once). Without it, the search
   * trains its trials one after another in this process.
   */
  dispatcher?: TrialDispatcher;
  /**
   * The job's model's label-quality inputs (BestModel.labelQuality): the chosen trial's training
   * dynamics, and for the final model of a pretrained backbone the held-out pass. Default true.
   */
  labelQuality?: boolean;
  now?: () => number;
}

/** A trial on the accuracy / latency / size Pareto front. */
export interface ParetoEntry {
  trial: number;
  backbone: string;
  arch?: string;
  validationAccuracy: number;
  /** Wall ms per image (batch 1), shown; it moves with the machine's load. */
  latencyMs: number;
  /** Process CPU ms per image (batch 1): the front's cost axis when every measured trial has it. */
  cpuMsPerImage?: number;
  modelMB: number;
  params: number;
  /** Whether it meets the job's constraints. */
  feasible: boolean;
}

export interface LeaderboardEntry {
  trial: number;
  status: TrialStatus;
  validationAccuracy: number | null;
  /** False when the model breaks the job's constraints (it is never chosen). */
  feasible: boolean;
  /** ASHA rung (ties in accuracy rank the higher rung first, as the choice of the model does). */
  rung: number;
  epochs: number | null;
  costSeconds: number;
  params: Record<string, Json>;
  /** With a TrialRank: the metric the board ranks by and this trial's value of it. */
  metric?: string;
  value?: number | null;
  /** The trial whose model the job keeps (candidate searches list it first). */
  chosen?: true;
}

/**
 * What a leaderboard ranks by when it is not validation accuracy (text: validation macro-F1;
 * tabular: validation log loss or RMSE, lower first). Only SUCCEEDED trials have a value.
 */
export interface TrialRank {
  metric: string;
  higherIsBetter: boolean;
}

export interface BestModel {
  trial: number;
  recipe: Recipe;
  manifest: ExportManifest;
  /** On the split named in `report.split`: 'validation' while searching, 'test' for the final model. */
  report: EvaluationReport & { split: string };
  leaderboard: LeaderboardEntry[];
  /** The final model only: the trials no other beats on validation accuracy, latency and size at once. */
  pareto?: ParetoEntry[];
  final: boolean;
  /**
   * What its label-quality report is computed from: a trial's training dynamics, for the final model
   * also the held-out label scores (search-label-quality.ts); absent with `SearchInput.labelQuality` false.
   */
  labelQuality?: SearchLabelQuality;
}

export interface SearchHooks {
  signal: AbortSignal;
  /** True when an abort means the budget ended: stop and keep the best model so far. */
  isBudgetStop(reason: unknown): boolean;
  onProgress(p: { trial: number; trials: number; percent: number; train: TrainProgress }): Promise<void>;
  onEpoch(trial: number, phase: string, log: EpochLog): Promise<void>;
  /** Several epochs of a phase at once, in order (instead of onEpoch for each, when given). */
  onEpochs?(trial: number, phase: string, logs: EpochLog[]): Promise<void>;
  /** A trial started or ended. */
  onTrial(t: {
    index: number;
    status: TrialStatus;
    message: string;
    params: Record<string, Json>;
  }): Promise<void>;
  /** A better model on validation (copied to the job's model prefix), or the final one with its test report. */
  onBest(b: BestModel): Promise<void>;
  /** A step of the search's own that is not a trial (the final model's label-quality pass). */
  onStage?(message: string): Promise<void>;
}

export interface SearchResult {
  status: 'completed' | 'stopped-by-budget';
  best: BestModel;
  trials: LedgerTrial[];
  /** Trials run by this attempt (not the ones an earlier attempt recorded). */
  ran: number[];
  resumedTrial?: number;
  /** The steps after the trials: what was set aside, left, planned and spent (the search's clock). */
  finish: FinishRecord;
}

/** The after-search steps' accounting, in seconds of the search's clock (`now`). */
export interface FinishRecord {
  /** This attempt's budget (its start to the deadline); Infinity without one. */
  budgetSeconds: number;
  /** Left when the trials were over; null without a deadline. */
  leftSeconds: number | null;
  /** What the search set aside for the winner's steps while planning (finishReserve). */
  reservedSeconds: number;
  /** The report steps as sized after the test evaluation (absent without a cost estimate). */
  plan?: FinishPlan;
  /** Spent: the test evaluation, the held-out pass (with reading the dynamics back), NormLIME. */
  seconds: { test: number; heldOut: number; normLime: number };
}

/**
 * One line for the worker's log: what the steps after the trials were given and took, e.g.
 * `budget 120.0 s, 24.1 s left after the trials (18.3 s reserved); test 3.2 s; held-out light
 * 9.8 s (estimated 12.1 s); NormLIME 10 images 5.0 s (estimated 4.4 s)`.
 */
export function describeFinish(f: FinishRecord): string {
  const s = (x: number) => `${x.toFixed(1)} s`;
  const h = f.plan?.heldOut;
  const nl = f.plan?.normLime;
  return [
    f.leftSeconds === null
      ? 'no deadline'
      : `budget ${s(f.budgetSeconds)}, ${s(f.leftSeconds)} left after the trials (${s(f.reservedSeconds)} reserved)`,
    `test ${s(f.seconds.test)}`,
    !h
      ? `held-out ${s(f.seconds.heldOut)}`
      : 'skipped' in h
        ? `held-out skipped (${h.skipped})`
        : `held-out ${h.form} ${s(f.seconds.heldOut)} (estimated ${s(h.seconds)})`,
    !nl
      ? `NormLIME ${s(f.seconds.normLime)}`
      : 'skipped' in nl
        ? `NormLIME skipped (${nl.skipped})`
        : `NormLIME ${nl.images} images ${s(f.seconds.normLime)} (estimated ${s(nl.seconds)})`,
  ].join('; ');
}

/**
 * The search's own stop of its trials: only the winner's test evaluation and the light form of its
 * held-out pass fit before the deadline.
 */
export class SearchBudgetEnd extends Error {
  constructor() {
    super("the budget's end, less the winner's test evaluation and light held-out pass");
  }
}

/**
 * `hooks` whose signal also aborts (SearchBudgetEnd, a budget stop) once `now()` reaches `stopAt()`,
 * checked at the trial's progress reports as the job's own budget stop is.
 */
function stoppingAt<H extends Omit<SearchHooks, 'onBest'>>(
  hooks: H,
  now: () => number,
  stopAt: () => number,
): H {
  const stop = new AbortController();
  return {
    ...hooks,
    signal: AbortSignal.any([hooks.signal, stop.signal]),
    isBudgetStop: (r: unknown) => r instanceof SearchBudgetEnd || hooks.isBudgetStop(r),
    onProgress: async (p: Parameters<SearchHooks['onProgress']>[0]) => {
      if (now() >= stopAt() && !stop.signal.aborted) stop.abort(new SearchBudgetEnd());
      await hooks.onProgress(p);
    },
  };
}

/**
 * Whether a trial's model is kept when the budget stops it (evaluated on validation and exported
 * after its stop): the first model, which may be all the job has, and the default recipe's, which
 * stands for the fixed job that keeps its model at the budget's end.
 */
export const keptOnStop = (c: Pick<TrialConfig, 'defaultRecipe'>, best: LedgerTrial | undefined): boolean =>
  !best || c.defaultRecipe === true;

/**
 * When a trial of `c` stops: the deadline less the test evaluation (required, finishCosts) of the
 * best trial so far, so that the winner's test evaluation still fits; for a trial whose model is kept
 * at its stop (keptOnStop), less also its own evaluation on validation (keptTrialSeconds) and the
 * larger of the two test evaluations, since it may become the model. Less also the light form of the
 * best trial's held-out label-quality pass when the search keeps it ahead of its trials
 * (heldOutFirst, of `budgetSeconds`; a dispatched trial passes the seconds left at its start).
 * Infinity without a deadline.
 */
export function trialStopAt(
  input: Pick<SearchInput, 'deadline' | 'index' | 'shape' | 'labelQuality'>,
  trials: LedgerTrial[],
  best: LedgerTrial | undefined,
  spec: (id: string) => BackboneSpec,
  c: TrialConfig,
  budgetSeconds: number,
): number {
  if (input.deadline === undefined) return Infinity;
  const costs = finishCosts(trials, best, spec, {
    index: input.index,
    shape: input.shape,
    labelQuality: input.labelQuality !== false,
  });
  let seconds = costs?.test ?? 0;
  if (keptOnStop(c, best)) {
    const own = keptTrialSeconds(trials, c, input.index);
    if (own) seconds = Math.max(seconds, own.test) + own.evaluate;
  }
  return input.deadline - 1000 * (seconds + (costs ? heldOutFirst(costs, budgetSeconds) : 0));
}

/**
 * What a trial of `c` stopped by the budget still costs when its model is kept (keptOnStop): its
 * evaluation on the validation split (one forward pass per image plus LATENCY_FORWARDS; its export
 * is not counted) and, should it become the model, its test evaluation (the same on the test split);
 * from forwardSeconds. Undefined before any trial has finished.
 */
export function keptTrialSeconds(
  trials: LedgerTrial[],
  c: Pick<TrialConfig, 'backbone' | 'inputSize'>,
  index: ImageShardIndex,
): { evaluate: number; test: number } | undefined {
  const f = forwardSeconds(trials, c.backbone, c.inputSize, index);
  if (f === undefined) return undefined;
  const validation = splitCount(index, 'validation');
  const test = splitCount(index, 'test') > 0 ? splitCount(index, 'test') : validation;
  return { evaluate: f * (validation + LATENCY_FORWARDS), test: f * (test + LATENCY_FORWARDS) };
}

/** Validation accuracy of a SUCCEEDED trial, else null. */
const accuracyOf = (t: LedgerTrial): number | null =>
  t.status === 'SUCCEEDED' && typeof t.metrics?.validationAccuracy === 'number'
    ? t.metrics.validationAccuracy
    : null;

const metric = (t: LedgerTrial, k: string): number | undefined =>
  typeof t.metrics?.[k] === 'number' ? t.metrics[k] : undefined;

/** Whether a trial's model meets the constraints (a trial without the measurement is not held to it). */
export function meetsConstraints(t: LedgerTrial, c: ModelConstraints | undefined): boolean {
  const latency = metric(t, 'latencyMs');
  const size = metric(t, 'modelMB');
  if (c?.maxLatencyMs !== undefined && latency !== undefined && latency > c.maxLatencyMs) return false;
  if (c?.maxModelMB !== undefined && size !== undefined && size > c.maxModelMB) return false;
  return true;
}

/** What the search ranks by: validation accuracy of a SUCCEEDED trial that meets the constraints. */
const scoreWith =
  (c: ModelConstraints | undefined) =>
  (t: LedgerTrial): number | null =>
    meetsConstraints(t, c) ? accuracyOf(t) : null;

const num = (v: Json | undefined): number => (typeof v === 'number' ? v : Number(v));

/**
 * A finished trial as the model choice sees it (model-choice.ts): its validation accuracy, rung and
 * per-image results when recorded; undefined when it failed, was pruned or breaks the constraints.
 */
function choiceCandidate(
  t: LedgerTrial,
  constraints: ModelConstraints | undefined,
): (ChoiceCandidate & { trial: LedgerTrial }) | undefined {
  const accuracy = scoreWith(constraints)(t);
  if (accuracy === null) return undefined;
  return {
    ...candidateFromMetrics(t.index, num(t.params.rung ?? 0), accuracy, t.metrics),
    ...(t.params.continuationOf !== undefined ? { continuationOf: num(t.params.continuationOf) } : {}),
    trial: t,
  };
}

/**
 * The job's model among the finished trials that meet the constraints: taken in trial order, a later
 * trial replaces the incumbent only when it is better on the same validation images by more than that
 * comparison's noise (model-choice.ts); trials without per-image results by higher validation
 * accuracy, then the higher rung.
 */
export function chosenTrial(trials: LedgerTrial[], constraints?: ModelConstraints): LedgerTrial | undefined {
  return chooseModel(trials.flatMap((t) => choiceCandidate(t, constraints) ?? []))?.trial;
}

/**
 * The leaderboard: finished trials by validation accuracy (ties: the higher rung, then the earlier
 * trial), those meeting the constraints first, failed and pruned last; with `chosen`, that trial (the
 * job's model, chosenTrial) first and marked. With `rank`, by that metric instead (text and tabular
 * searches, candidate-trials.ts).
 */
export function leaderboard(
  trials: LedgerTrial[],
  top = 20,
  constraints?: ModelConstraints,
  rank?: TrialRank,
  chosen?: number,
): LeaderboardEntry[] {
  const valueOf = (t: LedgerTrial): number | null =>
    rank && t.status === 'SUCCEEDED' && typeof t.metrics?.[rank.metric] === 'number'
      ? (t.metrics[rank.metric] as number)
      : null;
  // Higher sorts first; trials without a value last.
  const key = (t: LedgerTrial): number => {
    if (!rank) return accuracyOf(t) ?? -1;
    const v = valueOf(t);
    return v === null || Number.isNaN(v) ? -Infinity : rank.higherIsBetter ? v : -v;
  };
  const sorted = trials
    .filter((t) => t.status !== 'RUNNING' && t.status !== 'PENDING')
    .map((t) => ({
      entry: {
        trial: t.index,
        status: t.status,
        validationAccuracy: accuracyOf(t),
        feasible: meetsConstraints(t, constraints),
        rung: num(t.params.rung ?? 0),
        epochs: typeof t.metrics?.epochs === 'number' ? t.metrics.epochs : null,
        costSeconds: Math.round(t.costSeconds * 10) / 10,
        params: t.params,
        ...(rank ? { metric: rank.metric, value: valueOf(t) } : {}),
      },
      key: key(t),
    }))
    .sort(
      (a, b) =>
        Number(b.entry.feasible) - Number(a.entry.feasible) ||
        (b.key > a.key ? 1 : b.key < a.key ? -1 : 0) ||
        b.entry.rung - a.entry.rung ||
        a.entry.trial - b.entry.trial,
    )
    .map((x) => x.entry);
  // The job's model first and marked (the choice may keep an earlier trial within noise of a later one).
  const mine = sorted.filter((e) => e.trial === chosen).map((e) => ({ ...e, chosen: true as const }));
  return [...mine, ...sorted.filter((e) => e.trial !== chosen)].slice(0, top);
}

/**
 * The Pareto front of the SUCCEEDED trials that measured latency and size: maximize validation
 * accuracy, minimize CPU milliseconds per image (`cpuMsPerImage`; wall `latencyMs` when any measured
 * trial lacks it, as trials recorded before it was measured do) and MiB of weights.
 */
export function trialFront(trials: LedgerTrial[], constraints?: ModelConstraints): ParetoEntry[] {
  const measured = trials.filter(
    (t) =>
      accuracyOf(t) !== null && metric(t, 'latencyMs') !== undefined && metric(t, 'modelMB') !== undefined,
  );
  const cost = measured.every((t) => metric(t, 'cpuMsPerImage') !== undefined)
    ? 'cpuMsPerImage'
    : 'latencyMs';
  return paretoFront(measured, [
    (t) => accuracyOf(t)!,
    (t) => -metric(t, cost)!,
    (t) => -metric(t, 'modelMB')!,
  ]).map((t) => ({
    trial: t.index,
    backbone: String(t.params.backbone),
    ...(typeof t.params.arch === 'string' ? { arch: t.params.arch } : {}),
    validationAccuracy: accuracyOf(t)!,
    latencyMs: metric(t, 'latencyMs')!,
    ...(metric(t, 'cpuMsPerImage') !== undefined ? { cpuMsPerImage: metric(t, 'cpuMsPerImage') } : {}),
    modelMB: metric(t, 'modelMB')!,
    params: metric(t, 'params') ?? 0,
    feasible: meetsConstraints(t, constraints),
  }));
}

/**
 * The `nas_cnn` configurations tried so far, oldest first, one member each (its highest rung's
 * result): fitness = validation accuracy minus COST_WEIGHT per decade of MACs; -Infinity when it
 * breaks the constraints; null when it failed.
 */
export function evolutionHistory(trials: LedgerTrial[], constraints?: ModelConstraints): EvolutionMember[] {
  const byConfig = new Map<number, { first: number; rung: number; member: EvolutionMember }>();
  for (const t of [...trials].sort((a, b) => a.index - b.index)) {
    if (t.params.backbone !== NAS_BACKBONE || typeof t.params.arch !== 'string') continue;
    if (t.status === 'RUNNING' || t.status === 'PENDING') continue;
    const config = num(t.params.config);
    const acc = accuracyOf(t);
    const macs = metric(t, 'macs');
    const member: EvolutionMember = {
      id: config,
      arch: t.params.arch,
      fitness:
        acc === null || macs === undefined
          ? null
          : costAwareFitness(acc, macs, COST_WEIGHT, meetsConstraints(t, constraints)),
    };
    const seen = byConfig.get(config);
    const rung = num(t.params.rung);
    if (!seen) byConfig.set(config, { first: t.index, rung, member });
    else if (rung >= seen.rung) byConfig.set(config, { first: seen.first, rung, member });
  }
  return [...byConfig.values()].sort((a, b) => a.first - b.first).map((v) => v.member);
}

/**
 * What a head-only trial on cached features costs in full training epochs: one forward pass over the
 * data, where a training epoch is a forward and a backward pass (about three forward passes).
 */
export const HEAD_ONLY_EPOCH_SHARE = 1 / 3;
/** A head-only trial on the FEATURE_HEAD_VIEWS of the train split: one forward pass per view. */
export const VIEWS_HEAD_EPOCH_SHARE = FEATURE_HEAD_VIEWS.length * HEAD_ONLY_EPOCH_SHARE;

/**
 * The split sizes a trial's measured cost covered: a head-only trial's feature pass runs over the
 * validation images too (once, the vectors its head is scored on), not over the train split alone.
 */
export interface PassImages {
  train: number;
  validation: number;
}

/**
 * Full-network epochs a finished trial paid for: HEAD_ONLY_EPOCH_SHARE per view for a head-only one
 * (plus, given `images`, its pass over the validation images in train-split epochs); else the
 * epochs it trained, at most its planned ones (a pretrained trial's head phase on cached features
 * records many cheap epochs, counted here as the planned head epochs, an overestimate).
 */
function paidEpochs(t: LedgerTrial, images?: PassImages): number {
  if (t.params.headOnly === true) {
    const share = t.params.headViews === true ? VIEWS_HEAD_EPOCH_SHARE : HEAD_ONLY_EPOCH_SHARE;
    return images && images.train > 0
      ? share + (HEAD_ONLY_EPOCH_SHARE * images.validation) / images.train
      : share;
  }
  const trained = num(t.metrics?.epochs ?? null);
  const planned = num(t.params.epochs);
  return planned > 0 ? Math.min(trained, planned) : trained;
}

/**
 * Relative whole-network training cost of one pixel of one image of `backbone` (FALLBACK_THROUGHPUT,
 * the fallback table of the job estimate, docs/jobs.md); undefined for a backbone not in it.
 */
export function tableCostPerPixel(backbone: string): number | undefined {
  const t = FALLBACK_THROUGHPUT[backbone];
  return t ? 1 / (t.samplesPerSec * t.size ** 2) : undefined;
}

/**
 * Seconds a trial of `c` over `epochs` would take, from finished trials of the same backbone
 * (scaled by input pixels and epochs, `paidEpochs`). A backbone no trial has measured yet is not
 * free: its cost is scaled from the measured trials of the others by the two backbones' relative
 * cost in FALLBACK_THROUGHPUT (their median), or, when either is not in that table, taken as the
 * costliest measured trial's per pixel. Undefined only when no trial has finished.
 */
export function estimateSeconds(
  trials: LedgerTrial[],
  c: TrialConfig,
  epochs: number,
  images?: PassImages,
): number | undefined {
  const measured = trials.filter(
    (t) => t.status === 'SUCCEEDED' && t.costSeconds > 0 && paidEpochs(t, images) > 0,
  );
  const rateOf = (t: LedgerTrial) => t.costSeconds / (paidEpochs(t, images) * num(t.params.inputSize) ** 2);
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  const pixels = epochs * c.inputSize ** 2;
  const same = measured.filter((t) => t.params.backbone === c.backbone);
  if (same.length > 0) return median(same.map(rateOf)) * pixels;
  if (measured.length === 0) return undefined;
  const target = tableCostPerPixel(c.backbone);
  const scaled = measured.flatMap((t) => {
    const from = tableCostPerPixel(String(t.params.backbone));
    return target !== undefined && from !== undefined ? [(rateOf(t) * target) / from] : [];
  });
  if (scaled.length > 0) return median(scaled) * pixels;
  return Math.max(...measured.map(rateOf)) * pixels;
}

interface Planned {
  config: number;
  rung: number;
  epochs: number;
  c: TrialConfig;
  /** A continuation trial: the index of the trial whose final weights it starts from. */
  continuationOf?: number;
  /** Its constant learning rate, times the parent recipe's last phase's. */
  swaLearningRateFactor?: number;
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
  const score = scoreWith(input.constraints);
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
  /** Seconds from now to the deadline (Infinity without one). */
  const secondsLeft = () => (input.deadline !== undefined ? (input.deadline - now()) / 1000 : Infinity);
  /** The budget this attempt has (seconds from its start to the deadline): the report steps' share is of it. */
  const budgetSeconds = Math.max(0, secondsLeft());
  const costsOf = (best: LedgerTrial | undefined) =>
    finishCosts(trials, best, spec, {
      index: input.index,
      shape: input.shape,
      labelQuality: input.labelQuality !== false,
    });
  /** The job's model among the finished trials (chosenTrial: a later trial must be clearly better). */
  const bestTrial = (): LedgerTrial | undefined => chosenTrial(trials, input.constraints);

  /**
   * Seconds set aside for the after-search steps of the best trial so far (finishReserve: the test
   * evaluation and the report steps sized to REPORT_BUDGET_SHARE of the budget); re-estimated at each
   * plan, so it follows the best trial. 0 without a deadline or an estimate.
   */
  const reserve = (): number => {
    if (input.deadline === undefined) return 0;
    const c = costsOf(bestTrial());
    return c ? finishReserve(c, budgetSeconds) : 0;
  };

  /**
   * The next trial to start: ASHA's best move that fits the budget, given the finished trials; a
   * configuration already training at a rung (a dispatched trial) is not promoted to it again.
   */
  const plan = (): Planned | undefined => {
    if (trials.length >= input.maxTrials) return undefined;
    const rungs = input.asha;
    if (trials.length === 0) {
      const c = firstConfig(spec(input.firstBackbone), input.shape, input.options);
      return { config: 0, rung: 0, epochs: firstEpochs(c, rungs.minResource), c };
    }
    // Right after a head-only first model: the same head on the image + mirror + gray views, when
    // its estimated cost (three train passes where the first trial made one) fits the budget left.
    const first = trials.find((t) => t.index === 0);
    if (
      first?.status === 'SUCCEEDED' &&
      first.params.headOnly === true &&
      first.params.headViews !== true &&
      !trials.some((t) => t.params.headViews === true)
    ) {
      const c = viewsHeadConfig(first.params as unknown as TrialConfig);
      const epochs = num(first.params.epochs);
      const cost = estimateSeconds(trials, c, VIEWS_HEAD_EPOCH_SHARE) ?? 0;
      // The default recipe's trial (next, whatever the budget) and the after-search steps come first.
      const d = input.defaultTrial
        ? defaultRecipeConfig(spec(input.firstBackbone), input.shape, input.options)
        : undefined;
      const pending = d ? (estimateSeconds(trials, d.c, d.epochs) ?? 0) : 0;
      const left = secondsLeft() - reserve() - pending;
      if (cost <= left)
        return { config: Math.max(...trials.map((t) => num(t.params.config))) + 1, rung: 0, epochs, c };
    }
    if (input.defaultTrial && !trials.some((t) => t.params.defaultRecipe === true)) {
      const d = defaultRecipeConfig(spec(input.firstBackbone), input.shape, input.options);
      const config = Math.max(...trials.map((t) => num(t.params.config))) + 1;
      return { config, rung: rungResources(rungs).length - 1, epochs: d.epochs, c: d.c };
    }
    // What is left of the budget once the after-search steps of the best trial so far are set aside.
    const left = secondsLeft() - reserve();
    const fits = (c: TrialConfig, epochs: number) => (estimateSeconds(trials, c, epochs) ?? 0) <= left;
    if (input.continuation) {
      const b = bestTrial();
      if (b && continuable(b) && !trials.some((t) => t.params.continuationOf === b.index)) {
        const { defaultRecipe: _d, ...c } = b.params as unknown as TrialConfig;
        for (let epochs = CONTINUATION.epochs; epochs >= CONTINUATION.minEpochs; epochs--)
          if (fits(c, epochs))
            return {
              // Its parent's configuration, trained further: it takes no new configuration number,
              // so the configurations the search draws (the i-th one seeded by i) are those it would
              // draw without continuations; the continuation only spends budget before them.
              config: num(b.params.config),
              rung: num(b.params.rung),
              epochs,
              c,
              continuationOf: b.index,
              swaLearningRateFactor:
                typeof input.continuation === 'object'
                  ? input.continuation.learningRateFactor
                  : CONTINUATION.learningRateFactor,
            };
      }
    }
    const configOf = (config: number): TrialConfig => {
      const t = trials.find((x) => num(x.params.config) === config);
      if (t) return promotedConfig(t.params as unknown as TrialConfig, input.options);
      const p = proposeParams(
        input.sampler ?? 'random',
        space,
        input.seed,
        config,
        trials,
        score,
        spec,
        input.shape,
      );
      const arch =
        p.backbone === NAS_BACKBONE
          ? proposeArch(
              evolutionHistory(trials, input.constraints),
              { ...EVOLUTION, seed: input.seed },
              config,
            ).arch
          : undefined;
      return configFromParams(p, spec(String(p.backbone)), input.shape, arch);
    };
    let nextConfig = Math.max(...trials.map((t) => num(t.params.config))) + 1;
    const training = new Set(
      trials.filter(isActive).map((t) => `${num(t.params.config)}:${num(t.params.rung)}`),
    );
    for (const d of ashaCandidates(rungs, outcomes(trials, score))) {
      if (d.kind === 'promote') {
        if (training.has(`${d.config}:${d.rung}`)) continue;
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

  if (input.dispatcher) {
    const d = await runDispatched(input, hooks, input.dispatcher, {
      plan,
      bestTrial,
      spec,
      trials: () => trials,
      setTrials: (t) => (trials = t),
    });
    ran.push(...d.ran);
    stoppedByBudget = d.stoppedByBudget;
    if (d.resumedTrial !== undefined) resumedTrial = d.resumedTrial;
  } else {
    let stopAt = Infinity;
    const trialHooks = stoppingAt(hooks, now, () => stopAt);
    for (;;) {
      if (hooks.signal.aborted) {
        const reason: unknown = hooks.signal.reason;
        if (!hooks.isBudgetStop(reason)) throw reason;
        stoppedByBudget = true;
        break;
      }
      // A trial an earlier attempt left RUNNING resumes from its checkpoints first.
      const existing = trials.find(isActive);
      if (existing) resumedTrial = existing.index;
      const next = existing ? plannedOf(existing) : plan();
      if (!next) break;
      const index = existing?.index ?? trials.length;
      stopAt = trialStopAt(input, trials, bestTrial(), spec, next.c, budgetSeconds);
      const stop = await runTrial(input, trialHooks, index, next, existing !== undefined, spec, bestTrial());
      ran.push(index);
      trials = await input.ledger.all();
      if (stop === 'budget') {
        stoppedByBudget = true;
        break;
      }
    }
  }

  const winner = bestTrial();
  if (!winner && trials.some((t) => accuracyOf(t) !== null))
    throw new PermanentJobError(
      'NO_TRIAL_MEETS_CONSTRAINTS',
      `none of the ${trials.length} trials met the constraints ${JSON.stringify(input.constraints)}: ${trials
        .filter((t) => accuracyOf(t) !== null)
        .map(
          (t) =>
            `#${t.index} ${metric(t, 'latencyMs')?.toFixed(2)} ms, ${metric(t, 'modelMB')?.toFixed(3)} MB`,
        )
        .join('; ')}`,
    );
  if (!winner)
    throw new PermanentJobError(
      'NO_TRIAL_SUCCEEDED',
      `none of the ${trials.length} trials produced a model: ${trials.map((t) => `#${t.index} ${String(t.metrics?.error ?? t.status)}`).join('; ')}`,
    );
  // The job's folder gets the winner's model again: a worker killed between a trial's end and the
  // copy of its model (a finished trial is never re-run) would otherwise leave an earlier one there.
  if (winner.artifactPrefix) {
    const manifest = JSON.parse(
      new TextDecoder().decode(await input.reader.get(winner.artifactPrefix + EXPORT_MANIFEST_FILE)),
    ) as ExportManifest;
    await copyModel(input, winner.artifactPrefix, input.modelPrefix, manifest);
    await input.ledger.choose(winner.index);
  }
  // The steps after the trials (finish-budget.ts): the winner's test evaluation (required), then its
  // held-out label-quality pass and NormLIME, sized to what is left of the budget once the test
  // evaluation has measured what the winner's forward passes cost; skipped when the job's own budget
  // has ended or the job is stopping. Every bound is said in the report.
  const reason: unknown = hooks.signal.aborted ? hooks.signal.reason : undefined;
  const stopped =
    reason === undefined
      ? undefined
      : hooks.isBudgetStop(reason)
        ? 'the budget had ended'
        : 'the job was stopped';
  const wspec = spec(String(winner.params.backbone));
  const costs = costsOf(winner);
  const finish: FinishRecord = {
    budgetSeconds,
    leftSeconds: input.deadline !== undefined ? secondsLeft() : null,
    reservedSeconds: costs && input.deadline !== undefined ? finishReserve(costs, budgetSeconds) : 0,
    seconds: { test: 0, heldOut: 0, normLime: 0 },
  };
  let labelQuality: SearchLabelQuality | undefined;
  const { best, normLimeSeconds } = await finalEvaluation(
    input,
    winner,
    wspec,
    trials,
    score,
    now,
    async (testSeconds) => {
      finish.seconds.test = testSeconds;
      const measured = costs ? rescaleCosts(costs, testSeconds) : undefined;
      const plan = measured ? planFinish({ ...measured, test: 0 }, secondsLeft()) : undefined;
      if (plan) finish.plan = plan;
      if (input.labelQuality !== false) {
        const h = plan?.heldOut;
        const started = now();
        const winnerRecipe = trialRecipe(
          wspec,
          input.shape,
          winner.params as unknown as TrialConfig,
          num(winner.params.epochs),
          input.options,
        );
        const side = num(winner.params.inputSize);
        labelQuality = await searchLabelQuality(
          input,
          winner,
          trials,
          {
            spec: wspec,
            // The held-out pass embeds the stored images (heldOutSide), not the winner's upscaled input.
            recipe: {
              ...winnerRecipe,
              input: {
                height: Math.min(input.index.height, side),
                width: Math.min(input.index.width, side),
                channels: winnerRecipe.input.channels,
              },
            },
          },
          {
            signal: hooks.signal,
            ...(stopped
              ? { skip: stopped }
              : h && 'skipped' in h
                ? { skip: h.skipped }
                : h
                  ? { form: h.form, ...(h.note ? { formNote: h.note } : {}) }
                  : {}),
            ...(hooks.onStage ? { onStart: hooks.onStage } : {}),
          },
        );
        finish.seconds.heldOut = (now() - started) / 1000;
      }
      if (stopped) return { skip: stopped };
      // NormLIME gets what the held-out pass left (its images re-counted from the measured cost).
      const nl = measured?.normLime
        ? planFinish({ test: 0, normLime: measured.normLime }, secondsLeft()).normLime
        : undefined;
      if (!nl || input.deadline === undefined) return {};
      if ('skipped' in nl) return { skip: nl.skipped };
      return {
        maxImages: nl.images,
        deadline: { at: input.deadline, now },
        ...(nl.note ? { note: nl.note } : {}),
      };
    },
  );
  finish.seconds.normLime = normLimeSeconds;
  if (labelQuality) best.labelQuality = labelQuality;
  await hooks.onBest(best);
  if (input.removeTrialModel) {
    const keep = new Set([winner.index, ...(best.pareto ?? []).map((p) => p.trial)]);
    for (const t of trials)
      if (t.artifactPrefix && !keep.has(t.index)) {
        await input.removeTrialModel(t.index);
        await input.ledger.release(t.index);
      }
    trials = await input.ledger.all();
  }
  return {
    status: stoppedByBudget ? 'stopped-by-budget' : 'completed',
    best,
    trials,
    ran,
    ...(resumedTrial !== undefined ? { resumedTrial } : {}),
    finish,
  };
}

const isActive = (t: LedgerTrial): boolean => t.status === 'RUNNING' || t.status === 'PENDING';

/** The plan a recorded trial was started with. */
function plannedOf(t: LedgerTrial): Planned {
  return {
    config: num(t.params.config),
    rung: num(t.params.rung),
    epochs: num(t.params.epochs),
    c: t.params as unknown as TrialConfig,
    ...(t.params.continuationOf !== undefined
      ? {
          continuationOf: num(t.params.continuationOf),
          swaLearningRateFactor: num(t.params.swaLearningRateFactor ?? CONTINUATION.learningRateFactor),
        }
      : {}),
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The search's loop when trials are queue jobs: keeps as many trials in flight as there are trial
 * slots (each one recorded PENDING in the ledger, then dispatched), reads their ends from the ledger,
 * makes the best finished trial the job's model, and asks ASHA for more while slots are free. Trials
 * an earlier attempt dispatched are dispatched again (a no-op when their jobs still exist). On a
 * cancel it removes its trials' jobs that did not start (the running ones see the cancel themselves)
 * and rethrows; at the budget's end it waits for its trials (which watch the same deadline) to stop.
 */
async function runDispatched(
  input: SearchInput,
  hooks: SearchHooks,
  dispatcher: TrialDispatcher,
  s: {
    plan: () => Planned | undefined;
    bestTrial: () => LedgerTrial | undefined;
    spec: (id: string) => BackboneSpec;
    trials: () => LedgerTrial[];
    setTrials: (t: LedgerTrial[]) => void;
  },
): Promise<{ ran: number[]; stoppedByBudget: boolean; resumedTrial?: number }> {
  const now = input.now ?? Date.now;
  const ran: number[] = [];
  const inFlight = new Set<number>();
  let resumedTrial: number | undefined;
  for (const t of s.trials().filter(isActive)) {
    resumedTrial ??= t.index;
    await dispatcher.dispatch(t.index);
    inFlight.add(t.index);
  }
  let chosen: number | undefined;
  let lastCheck = now();
  let budgetAt: number | undefined;
  let idleMs = 0;
  const flushIdle = async (min: number) => {
    if (!dispatcher.waited || idleMs < min) return;
    const seconds = idleMs / 1000;
    idleMs = 0;
    await dispatcher.waited(seconds);
  };
  const refresh = async () => {
    s.setTrials(await input.ledger.all());
    for (const i of [...inFlight]) {
      const t = s.trials().find((x) => x.index === i);
      if (t && isActive(t)) continue;
      inFlight.delete(i);
      ran.push(i);
      if (t?.metrics?.stopped === 'budget') budgetAt ??= now();
    }
    const best = s.bestTrial();
    if (best && best.index !== chosen && best.artifactPrefix) {
      chosen = best.index;
      await promote(input, hooks, best, s.spec);
    }
  };
  try {
    for (;;) {
      await refresh();
      if (hooks.signal.aborted) {
        const reason: unknown = hooks.signal.reason;
        if (!hooks.isBudgetStop(reason)) {
          await abandon(input, dispatcher, s.trials(), [...inFlight]);
          throw reason;
        }
        budgetAt ??= now();
      }
      if (budgetAt === undefined) {
        const slots = Math.max(1, await dispatcher.slots());
        while (inFlight.size < slots) {
          const next = s.plan();
          if (!next) break;
          const index = Math.max(-1, ...s.trials().map((t) => t.index)) + 1;
          const row = await input.ledger.start(index, paramsOf(next), 'PENDING');
          s.setTrials([...s.trials(), row]);
          await dispatcher.dispatch(index);
          inFlight.add(index);
        }
      }
      if (inFlight.size === 0) break;
      if (budgetAt !== undefined && now() - budgetAt > (dispatcher.budgetGraceMs ?? 120_000)) {
        // The budget is over and some trials did not report in time: the search ends without them.
        await abandon(input, dispatcher, s.trials(), [...inFlight]);
        break;
      }
      if (now() - lastCheck >= (dispatcher.checkMs ?? 30_000)) {
        lastCheck = now();
        for (const i of inFlight) {
          const state = await dispatcher.state(i);
          if (state === 'missing') await dispatcher.dispatch(i);
          else if (typeof state === 'object')
            await input.ledger.finish(i, {
              status: 'FAILED',
              metrics: { error: `the trial's job failed: ${state.failed}` },
              curves: [],
              costSeconds: 0,
            });
        }
      }
      // After a budget stop the signal stays aborted: wait on the clock, not on it.
      const asleep = now();
      await sleep(
        dispatcher.pollMs ?? 1_000,
        budgetAt === undefined ? hooks.signal : new AbortController().signal,
      );
      idleMs += Math.max(0, now() - asleep);
      await flushIdle(15_000);
    }
  } finally {
    // The waiting is not charged (the trials charge their own compute), on every way out.
    await flushIdle(0);
  }
  return {
    ran,
    stoppedByBudget: budgetAt !== undefined,
    ...(resumedTrial !== undefined ? { resumedTrial } : {}),
  };
}

/** Removes the jobs of trials that did not start and records them PRUNED. */
async function abandon(
  input: SearchInput,
  dispatcher: TrialDispatcher,
  trials: LedgerTrial[],
  indices: number[],
): Promise<void> {
  await dispatcher.abandon(indices);
  for (const i of indices)
    if (trials.find((t) => t.index === i)?.status === 'PENDING')
      await input.ledger.finish(i, {
        status: 'PRUNED',
        metrics: { error: 'the search ended before the trial started' },
        curves: [],
        costSeconds: 0,
      });
}

/** A dispatched trial that is now the best on validation: its model becomes the job's model. */
async function promote(
  input: SearchInput,
  hooks: SearchHooks,
  t: LedgerTrial,
  spec: (id: string) => BackboneSpec,
): Promise<void> {
  const prefix = t.artifactPrefix!;
  const manifest = JSON.parse(
    new TextDecoder().decode(await input.reader.get(prefix + EXPORT_MANIFEST_FILE)),
  ) as ExportManifest;
  const report = JSON.parse(
    new TextDecoder().decode(await input.reader.get(prefix + TRIAL_REPORT_FILE)),
  ) as PipelineModel['report'] & { split: string };
  await copyModel(input, prefix, input.modelPrefix, manifest);
  await input.ledger.choose(t.index);
  const c = t.params as unknown as TrialConfig;
  const all = await input.ledger.all();
  const labelQuality = await trialLabelQuality(input, all, t);
  await hooks.onBest({
    trial: t.index,
    recipe: trialRecipe(spec(c.backbone), input.shape, c, num(t.params.epochs), input.options),
    manifest,
    report,
    leaderboard: leaderboard(all, 20, input.constraints, undefined, t.index),
    final: false,
    ...(labelQuality ? { labelQuality } : {}),
  });
}

/**
 * An earlier best's label-quality inputs: the training dynamics of its trial (`own` when in memory)
 * or, when it recorded none, another trial's (dynamicsFor); no held-out pass (only the final model
 * gets it). When no trial has recorded dynamics yet, the reason (noDynamics): a job cancelled now
 * keeps this model, and its report says why it has no label quality. Undefined with `labelQuality` off.
 */
async function trialLabelQuality(
  input: SearchInput,
  trials: LedgerTrial[],
  t: LedgerTrial,
  own?: DynamicsValues,
): Promise<SearchLabelQuality | undefined> {
  if (input.labelQuality === false) return undefined;
  const found = await dynamicsFor(input.reader, trials, t, own);
  if (!found) return noDynamics(t, true);
  return {
    ...found,
    ...(found.trial !== t.index
      ? { note: `trial ${t.index} recorded no training dynamics; the scores are trial ${found.trial}'s` }
      : {}),
  };
}

/**
 * Share of a training epoch the held-out pass costs: two forward passes over the train split (the
 * images and their mirror images, 2/3 of an epoch, which is a forward and a backward pass: about
 * three) plus the cross-fitting's fold models (HELD_OUT_REPEATS x 4 logistic regressions with
 * generalized cross-entropy, HELD_OUT_GCE, fitted from zero). Set from the product path
 * (bench/search-vs-default.ts round 7, the search's planned against its spent seconds): with the
 * two-stage fit (cross-entropy, then generalized cross-entropy) the pass took 3.3-4.9 epochs; fitted
 * from zero the fold models take 0.61-0.64 of that fit's CPU (bench/mislabel-rotate.ts, rule z1), so
 * 2.0-3.1 epochs (4 until 2026-12-08). The fold models' cost does not grow with the image size, so
 * larger inputs get more time than they need: the light form measured 0.54 of an epoch at 160 px on
 * the food photos (below).
 */
export const HELD_OUT_EPOCH_SHARE = 3;

/**
 * The light held-out pass's share of an epoch (its bounded form, finish-budget.ts): one forward pass
 * over the train split (the image view only, 1/3) plus one fold assignment of the fold models on one
 * view (a sixth of HELD_OUT_EPOCH_SHARE's part beyond the two forward passes): 0.72. A 4-minute
 * `npm start` job on the 311 food photos (249 train, MobileNetV2 winner, the pass at 160 px) spent
 * 7.6 s on it where 1.44 epochs (the share until 2026-12-08) gave 20.4 s: 0.54 of an epoch.
 */
export const HELD_OUT_LIGHT_EPOCH_SHARE = 1 / 3 + (HELD_OUT_EPOCH_SHARE - 2 / 3) / 6;

/**
 * The input side of a search winner's held-out pass: the pretrained backbone's features of the stored
 * images, at the smaller of the stored size and the winner's input, resized up to HELD_OUT_MIN_SIDE
 * (heldOutInput). A winner trained at 224 px on 64-px images gets the pass at 128 px: resized to 224
 * the same images rank label flips worse at 2.6 times the CPU (docs/interpretability.md).
 */
export function heldOutSide(
  spec: Pick<BackboneSpec, 'id' | 'resizable'>,
  stored: { height: number; width: number },
  winnerSide: number,
  channels: 1 | 3,
): { height: number; width: number; channels: 1 | 3 } {
  return heldOutInput(spec, {
    height: Math.min(stored.height, winnerSide),
    width: Math.min(stored.width, winnerSide),
    channels,
  });
}

/**
 * What the after-search steps of `best` would cost (finish-budget.ts), in the search's clock, from the
 * finished trials' measured seconds (forwardSeconds: a forward pass of its backbone at its input
 * over one image is a third of a training epoch's cost per train image, a head-only trial's pass
 * over the validation images counted in what it measured); the
 * test evaluation runs one per test image and test-time view plus LATENCY_FORWARDS; NormLIME
 * NORMLIME_BUDGET.samples per image; the held-out pass (pretrained backbones, label quality on)
 * HELD_OUT_EPOCH_SHARE or HELD_OUT_LIGHT_EPOCH_SHARE of an epoch at heldOutSide. Undefined without
 * a best trial or a train split.
 */
export function finishCosts(
  trials: LedgerTrial[],
  best: LedgerTrial | undefined,
  spec: (id: string) => BackboneSpec,
  data: { index: ImageShardIndex; shape: Pick<DatasetShape, 'channels'>; labelQuality: boolean },
): FinishCosts | undefined {
  if (!best) return undefined;
  const backbone = String(best.params.backbone);
  const side = num(best.params.inputSize);
  const n = (split: 'train' | 'validation' | 'test') => splitCount(data.index, split);
  const perImage = forwardSeconds(trials, backbone, side, data.index);
  if (perImage === undefined) return undefined;
  const images: PassImages = { train: n('train'), validation: n('validation') };
  const tta = typeof best.metrics?.tta === 'string' && best.metrics.tta !== 'none' ? best.metrics.tta : '';
  const views = 1 + (tta ? tta.split('+').filter((v) => v !== 'image').length : 0);
  const tested = n('test') > 0 ? n('test') : n('validation');
  const s = spec(backbone);
  let heldOut: FinishCosts['heldOut'];
  if (data.labelQuality && s.pretrained) {
    const h = heldOutSide(s, data.index, side, data.shape.channels);
    const hs = Math.max(h.height, h.width);
    const at = { backbone, inputSize: hs } as TrialConfig;
    const full = heldOutSeconds(trials, backbone, hs, images);
    const light = estimateSeconds(trials, at, HELD_OUT_LIGHT_EPOCH_SHARE, images);
    if (full !== undefined && light !== undefined) heldOut = { full, light };
  }
  const explained = Math.min(
    NORMLIME_BUDGET.maxImages,
    NORMLIME_BUDGET.imagesPerClass * data.index.labels.length,
    n('validation'),
  );
  return {
    test: perImage * (tested * views + LATENCY_FORWARDS),
    ...(heldOut ? { heldOut } : {}),
    ...(explained > 0
      ? { normLime: { perImage: perImage * NORMLIME_BUDGET.samples, images: explained } }
      : {}),
  };
}

/**
 * Seconds of one forward pass of `backbone` at `side` px over one image (a third of a training
 * epoch's cost per train image, HEAD_ONLY_EPOCH_SHARE), from the finished trials (estimateSeconds,
 * a head-only trial's pass over the validation images counted); undefined without a train split or
 * a finished trial.
 */
export function forwardSeconds(
  trials: LedgerTrial[],
  backbone: string,
  side: number,
  index: ImageShardIndex,
): number | undefined {
  const images: PassImages = {
    train: splitCount(index, 'train'),
    validation: splitCount(index, 'validation'),
  };
  if (images.train === 0) return undefined;
  const pass = estimateSeconds(
    trials,
    { backbone, inputSize: side } as TrialConfig,
    HEAD_ONLY_EPOCH_SHARE,
    images,
  );
  return pass === undefined ? undefined : pass / images.train;
}

/**
 * Seconds the full held-out pass of `backbone` at `side` px is estimated to take (estimateSeconds;
 * `images`: the split sizes a head-only trial's measured cost covered, see PassImages).
 */
export function heldOutSeconds(
  trials: LedgerTrial[],
  backbone: string,
  side: number,
  images?: PassImages,
): number | undefined {
  return estimateSeconds(trials, { backbone, inputSize: side } as TrialConfig, HELD_OUT_EPOCH_SHARE, images);
}

/** A dispatched trial's validation report, next to its exported model (the search reads it back). */
export const TRIAL_REPORT_FILE = 'trial-report.json';

function outcomes(trials: LedgerTrial[], score: (t: LedgerTrial) => number | null): RungOutcome[] {
  return trials
    .filter(
      (t) =>
        t.status !== 'RUNNING' &&
        t.status !== 'PENDING' &&
        t.params.continuationOf === undefined &&
        t.params.headViews !== true,
    )
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
    ...(c.arch ? { arch: c.arch } : {}),
    ...(c.headOnly ? { headOnly: true } : {}),
    ...(c.headViews ? { headViews: true } : {}),
    ...(c.defaultRecipe ? { defaultRecipe: true } : {}),
    ...(p.continuationOf !== undefined
      ? {
          continuationOf: p.continuationOf,
          swaLearningRateFactor: p.swaLearningRateFactor ?? CONTINUATION.learningRateFactor,
        }
      : {}),
  };
}

/**
 * Trains one dispatched trial (a trial queue job, on any worker): the trial recorded at `index` with
 * the configuration its row holds, resumed from its checkpoints when an earlier worker died in it.
 * Records its end in the ledger, its validation report next to its model; the search that
 * dispatched it chooses the job's model. 'skipped' when the row is missing or already finished.
 */
export async function runDispatchedTrial(
  input: SearchInput,
  hooks: Omit<SearchHooks, 'onBest'>,
  index: number,
): Promise<'done' | 'budget' | 'skipped'> {
  const trials = await input.ledger.all();
  const t = trials.find((x) => x.index === index);
  if (!t || !isActive(t)) return 'skipped';
  const best = chosenTrial(
    trials.filter((x) => x.index !== index),
    input.constraints,
  );
  const specs = new Map<string, BackboneSpec>();
  const spec = (id: string) => {
    let sp = specs.get(id);
    if (!sp) specs.set(id, (sp = input.zoo.get(id)));
    return sp;
  };
  const now = input.now ?? Date.now;
  const left = input.deadline !== undefined ? Math.max(0, (input.deadline - now()) / 1000) : Infinity;
  const stopAt = trialStopAt(input, trials, best, spec, plannedOf(t).c, left);
  return runTrial(
    input,
    { ...stoppingAt(hooks, now, () => stopAt), onBest: () => Promise.resolve() },
    index,
    plannedOf(t),
    t.costSeconds > 0,
    spec,
    best,
    true,
  );
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
  dispatched = false,
): Promise<'done' | 'budget' | 'skipped'> {
  const now = input.now ?? Date.now;
  const params = paramsOf(p);
  const recorded = await input.ledger.start(index, params);
  const backbone = spec(p.c.backbone);
  // A continuation trains its parent's recipe's last phase further, from the parent's weights.
  const parent =
    p.continuationOf !== undefined
      ? (await input.ledger.all()).find((t) => t.index === p.continuationOf)
      : undefined;
  const recipe = parent
    ? {
        ...trialRecipe(
          backbone,
          input.shape,
          parent.params as unknown as TrialConfig,
          num(parent.params.epochs),
          input.options,
        ),
        swa: {
          epochs: p.epochs,
          learningRateFactor: p.swaLearningRateFactor ?? CONTINUATION.learningRateFactor,
        },
      }
    : trialRecipe(backbone, input.shape, p.c, p.epochs, input.options);
  const curves: Array<EpochLog & { phase: string }> = [];
  let lastCost = now();
  const costSince = () => {
    const t = now();
    const s = (t - lastCost) / 1000;
    lastCost = t;
    return s;
  };
  const describe = `${p.c.backbone}${p.c.arch ? ` ${p.c.arch}` : ''} @${p.c.inputSize}px, lr ${p.c.learningRate.toPrecision(2)}, wd ${p.c.weightDecay}, batch ${p.c.batchSize}, aug ${p.c.augmentation}${p.c.regularizer !== 'none' ? `, l2sp ${p.c.regularizerAlpha.toPrecision(2)}` : ''}, ${p.epochs} epochs${parent ? ` continuing trial ${parent.index} (weights averaged)` : ''}`;
  await hooks.onTrial({
    index,
    status: 'RUNNING',
    params: recorded.params,
    message: `trial ${index} ${resumed ? 'resumed' : 'started'}: ${describe}`,
  });
  // A dispatched trial may be trained by two workers at once (one lost its queue lock while starved,
  // another claimed it): each exports to its own folder, and the ledger records the claimant's.
  const prefix = dispatched ? `${input.trialPrefix(index)}runs/${randomUUID()}/` : input.trialPrefix(index);
  let result: Awaited<ReturnType<typeof runImageClassification>>;
  let dynamics: DynamicsValues | undefined;
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
        ...(parent
          ? {
              warmStart: {
                reader: input.reader,
                prefix: parent.artifactPrefix ?? input.trialPrefix(parent.index),
              },
            }
          : {}),
        evaluateOn: 'validation',
        // NormLIME is computed once, for the winner (finalEvaluation), not for every trial.
        interpret: false,
      },
      {
        signal: hooks.signal,
        // The first model is kept even when the budget cuts it short: it may be all the job has.
        // So is the default recipe's: the fixed job it stands for keeps its model at the budget's end.
        keepModelOnStop: (reason) => hooks.isBudgetStop(reason) && keptOnStop(p.c, best),
        onProgress: (pp) =>
          hooks.onProgress({ trial: index, trials: input.maxTrials, percent: pp.percent, train: pp.train }),
        onEpoch: async (phase, log) => {
          curves.push({ ...log, phase });
          await input.ledger.progress(index, curves, costSince());
          await hooks.onEpoch(index, phase, log);
        },
        // A phase's epochs reported together: one write of the curves, the job's events in one go.
        onEpochs: async (phase, logs) => {
          curves.push(...logs.map((log) => ({ ...log, phase })));
          await input.ledger.progress(index, curves, costSince());
          if (hooks.onEpochs) await hooks.onEpochs(index, phase, logs);
          else for (const log of logs) await hooks.onEpoch(index, phase, log);
        },
        // The training dynamics of every epoch so far (a resumed run's restored from its checkpoints).
        onModel: (m) => Promise.resolve(void (dynamics = m.dynamics ?? dynamics)),
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
  if (dynamics && input.labelQuality !== false) await writeTrialDynamics(input.writer, prefix, dynamics);
  if (dispatched)
    await input.writer.put(
      prefix + TRIAL_REPORT_FILE,
      new TextEncoder().encode(JSON.stringify(m.report)),
      'application/json',
    );
  const ended = await input.ledger.finish(index, {
    status: 'SUCCEEDED',
    metrics: {
      validationAccuracy: m.report.accuracy,
      validationLoss: m.report.logLoss,
      macroF1: m.report.macro.f1,
      // A feature head's test-time averaging, chosen on validation: which, and both models' scores.
      ...(m.tta
        ? {
            tta: m.tta.views.length > 0 ? m.tta.views.join('+') : 'none',
            validationAccuracyPlain: m.tta.plain.accuracy,
            validationLossPlain: m.tta.plain.logLoss,
            validationAccuracyTta: m.tta.averaged.accuracy,
            validationLossTta: m.tta.averaged.logLoss,
          }
        : {}),
      ...costMetrics(m.report, p.c, input.shape, input.index.labels.length),
      // Per validation image, right or wrong, and which images (model-choice.ts compares trials on them).
      ...(m.validation
        ? {
            validationCorrect: packCorrect(m.validation.correct),
            validationImages: labelsKey(m.validation.labels),
          }
        : {}),
      epochs: curves.length || p.epochs,
      ...(result.status === 'stopped-by-budget' ? { stopped: 'budget' } : {}),
      ...(result.failedPhase ? { failedPhase: result.failedPhase.phase } : {}),
      // Where the trial's time went: wall and process CPU seconds per stage (`stageSeconds.load`,
      // `stageCpuSeconds.load`; load, features, head, train, evaluate, export).
      ...stageMetrics(result.stages),
    },
    curves,
    costSeconds: costSince(),
    artifactPrefix: prefix,
  });
  // A dispatched trial another worker claimed meanwhile (or finished): its end is that worker's.
  if (dispatched && !ended) return 'skipped';
  await hooks.onTrial({
    index,
    status: 'SUCCEEDED',
    params,
    message: `trial ${index}: validation accuracy ${(m.report.accuracy * 100).toFixed(2)}% (${describe})`,
  });
  // A dispatched trial leaves the choice of the job's model to the search.
  if (dispatched) return result.status === 'stopped-by-budget' ? 'budget' : 'done';
  const row = (await input.ledger.all()).find((t) => t.index === index);
  const mine = row ? choiceCandidate(row, input.constraints) : undefined;
  const incumbent = best ? choiceCandidate(best, input.constraints) : undefined;
  if (mine && (!incumbent || replacesIncumbent(mine, incumbent))) {
    await copyModel(input, prefix, input.modelPrefix, m.manifest);
    await input.ledger.choose(index);
    const all = await input.ledger.all();
    const row = all.find((t) => t.index === index);
    const labelQuality = row ? await trialLabelQuality(input, all, row, dynamics) : undefined;
    await hooks.onBest({
      trial: index,
      recipe,
      manifest: m.manifest,
      report: m.report as PipelineModel['report'] & { split: string },
      leaderboard: leaderboard(all, 20, input.constraints, undefined, index),
      final: false,
      ...(labelQuality ? { labelQuality } : {}),
    });
  }
  return result.status === 'stopped-by-budget' ? 'budget' : 'done';
}

/**
 * What a trial's model costs: measured wall and process-CPU ms per image (batch 1, on the worker's
 * backend), MiB of float32 weights and parameters; for `nas_cnn` also counted multiply-accumulates
 * (the fitness term).
 */
function costMetrics(
  report: EvaluationReport,
  c: TrialConfig,
  shape: DatasetShape,
  numClasses: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (report.latency) {
    out.latencyMs = Math.round(report.latency.msPerImage * 1000) / 1000;
    out.cpuMsPerImage = Math.round(report.latency.cpuMsPerImage * 1000) / 1000;
  }
  if (report.modelSize) {
    out.modelMB = Math.round((report.modelSize.bytes / 2 ** 20) * 10000) / 10000;
    out.params = report.modelSize.params;
  }
  if (c.arch)
    out.macs = archCost(
      c.arch,
      { height: c.inputSize, width: c.inputSize, channels: shape.channels },
      numClasses,
    ).macs;
  return out;
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

/** How the winner's NormLIME is bounded (finish-budget.ts), or why it is skipped. */
interface NormLimeBound {
  skip?: string;
  maxImages?: number;
  deadline?: { at: number; now: () => number };
  note?: string;
}

/**
 * The winner, evaluated once on the test split (the search never looked at it); its manifest's
 * metrics become the test metrics. Falls back to validation when the dataset has no test split.
 * Then `afterTest` (given the evaluation's seconds on `now`) runs the held-out pass and says how
 * NormLIME of the winner, on validation, is bounded.
 */
async function finalEvaluation(
  input: SearchInput,
  winner: LedgerTrial,
  spec: BackboneSpec,
  trials: LedgerTrial[],
  score: (t: LedgerTrial) => number | null,
  now: () => number,
  afterTest: (testSeconds: number) => Promise<NormLimeBound>,
): Promise<{ best: BestModel; normLimeSeconds: number }> {
  const c = winner.params as unknown as TrialConfig;
  const recipe = trialRecipe(spec, input.shape, c, num(winner.params.epochs), input.options);
  const started = now();
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
    // With the test-time averaging its manifest declares (chosen on validation by its trial).
    const tta = testTimeAveragingOf(manifest);
    const evaluation = await evaluateModel(model, data, {
      classNames: input.index.labels,
      latency: { runs: 10, warmup: 2 },
      ...(tta ? { tta } : {}),
    });
    const bound = await afterTest((now() - started) / 1000);
    const nlStarted = now();
    let interpretation: Record<string, unknown> = {};
    if (bound.skip) interpretation = { normLimeSkipped: `no NormLIME: ${bound.skip}` };
    else if (splitCount(input.index, 'validation') > 0)
      try {
        const normLime = await normLimeReport(
          model,
          input.shards,
          input.index,
          'validation',
          spec.normalization,
          recipe.input,
          bound,
        );
        // The budget's end stopped it before the images planned.
        if (bound.maxImages !== undefined && normLime.images < bound.maxImages)
          normLime.note = `NormLIME on ${normLime.images} images: the budget ended before the ${bound.maxImages} planned${bound.note ? ` (${bound.note})` : ''}`;
        interpretation = { normLime };
      } catch (error) {
        interpretation = { normLimeError: error instanceof Error ? error.message : String(error) };
      }
    const normLimeSeconds = (now() - nlStarted) / 1000;
    const report = {
      ...evaluation,
      ...interpretation,
      ...(tta ? { testTimeViews: [...tta.views] } : {}),
    } as EvaluationReport;
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
      best: {
        trial: winner.index,
        recipe,
        manifest: final,
        report: { ...report, split },
        leaderboard: leaderboard(trials, 20, input.constraints, undefined, winner.index),
        pareto: trialFront(trials, input.constraints),
        final: true,
      },
      normLimeSeconds,
    };
  } finally {
    model.dispose();
  }
}

/** A run's stage times as flat trial metrics: `stageSeconds.<stage>` and `stageCpuSeconds.<stage>`. */
export function stageMetrics(stages: Record<string, StageTime> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(stages ?? {})) {
    out[`stageSeconds.${name}`] = t.seconds;
    out[`stageCpuSeconds.${name}`] = t.cpuSeconds;
  }
  return out;
}
