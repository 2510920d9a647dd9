import { LEAKAGE_MIN_VALIDATION_ROWS, leakageWarning, type LeakageCells } from '@modelsmith/contracts';
import {
  inputSchemaOf,
  predictMatrix,
  TABULAR_MODEL_FORMAT,
  type TabularModelArtifact,
  type TabularTask,
} from './artifact';
import { GbdtBinnedCache, trainGbdt, type GbdtFitted, type GbdtParams } from './gbdt';
import { trainLinear } from './linear';
import {
  encoderWidth,
  fitPreprocessor,
  transformRows,
  transformTrainingRows,
  type DroppedColumn,
  type Preprocessor,
} from './preprocess';
import type { GbdtRungs } from './rungs';
import { lossStandardError, oneStandardErrorChoice } from './selection';
import { categoryOf, parseBoolean, parseDate, parseNumber, type TabularRow } from './values';

export interface TabularSplitRows {
  rows: TabularRow[];
}

export type CandidateName = 'gbdt' | 'gbdt_small' | 'linear';

export interface TabularCandidate {
  name: CandidateName;
  params: Record<string, unknown>;
  /** Validation log loss (classification) or RMSE (regression). */
  validLoss: number;
  /** Validation accuracy (classification) or R² (regression). */
  validScore: number;
  /** Standard error of `validLoss` over the validation rows (`lossStandardError`). */
  validLossSE: number;
  trainMs: number;
  iterations?: number;
  /** A GBDT stopped on a rung of iterations ({@link GbdtRungs}): that rung. */
  stoppedAtRung?: number;
}

export interface TabularWarning {
  code: 'constant_column' | 'identifier_column' | 'empty_column' | 'possible_leakage';
  subject: string;
  message: string;
}

export interface TrainTabularOptions {
  train: TabularSplitRows;
  validation: TabularSplitRows;
  target: string;
  task: TabularTask;
  /** Class names by index (classification); rows whose target is not one of them are left out. */
  classes?: string[];
  /** Feature columns (default: every column of the first row except the target). */
  columns?: string[];
  /** Column types known from ingestion. */
  types?: Record<string, string>;
  /** Candidates to try, in order (default: all). Later ones are skipped once `deadline` passes. */
  candidates?: CandidateName[];
  /** Epoch ms after which no new candidate starts and boosting stops. */
  deadline?: number;
  seed?: number;
  /** Settings that replace the gbdt candidates' own (a search's sampled configuration). */
  gbdt?: Partial<GbdtParams>;
  /** Each boosting iteration's training and validation loss (gbdt candidates). */
  onIteration?: (it: { iteration: number; trainLoss: number; validLoss?: number }) => void;
  onCandidate?: (c: TabularCandidate) => void | Promise<void>;
  /**
   * A job's earlier GBDT trials (rungs.ts): a gbdt candidate stops at a rung where it is behind all
   * of them (`stoppedAtRung`). Not updated here: the caller records each finished trial's curve.
   */
  rungs?: GbdtRungs;
  /**
   * The per-job work done once ({@link prepareTabular} with these same rows and options): a job's
   * trials share it instead of refitting the encoders and rerunning the leakage check per trial.
   */
  prepared?: PreparedTabular;
}

export interface TrainTabularResult {
  artifact: TabularModelArtifact;
  chosen: TabularCandidate;
  candidates: TabularCandidate[];
  dropped: DroppedColumn[];
  warnings: TabularWarning[];
  /** Rows used per split after dropping unusable targets. */
  rows: { train: number; validation: number };
}

/** Tables with more training rows than this skip the `gbdt_small` candidate (unless it is the only one). */
export const SMALL_TABLE_ROWS = 2000;

export class TabularTrainingError extends Error {
  constructor(
    readonly code: 'NO_FEATURES' | 'TOO_FEW_ROWS' | 'BAD_TARGET',
    message: string,
  ) {
    super(message);
  }
}

/** Target value per row (class index or number); NaN when the row's target is unusable. */
export function encodeTarget(
  rows: readonly TabularRow[],
  target: string,
  task: TabularTask,
  classes: readonly string[],
): Float64Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  return Float64Array.from(rows, (r) => {
    if (task === 'regression') {
      const v = parseNumber(r[target]);
      return v === undefined ? NaN : v;
    }
    const c = categoryOf(r[target]);
    return c === null ? NaN : (index.get(c) ?? NaN);
  });
}

function keep(rows: TabularRow[], y: Float64Array): { rows: TabularRow[]; y: Float64Array } {
  const ids: number[] = [];
  y.forEach((v, i) => {
    if (!Number.isNaN(v)) ids.push(i);
  });
  return { rows: ids.map((i) => rows[i]), y: Float64Array.from(ids, (i) => y[i]) };
}

/** What {@link prepareTabular} needs: the rows, target and columns of a search (its candidates aside). */
export type PrepareTabularOptions = Pick<
  TrainTabularOptions,
  'train' | 'validation' | 'target' | 'task' | 'classes' | 'columns' | 'types' | 'seed'
>;

/**
 * The per-job work of a tabular search, done once and shared by its candidates (and a job's
 * trials): the usable rows and their targets, the encoders fitted on the training split, both
 * splits' matrices, and the warnings (dropped columns, the leakage check). Read-only afterwards.
 */
export interface PreparedTabular {
  readonly options: PrepareTabularOptions;
  readonly task: TabularTask;
  readonly classes: string[];
  readonly K: number;
  readonly tr: { rows: TabularRow[]; y: Float64Array };
  readonly va: { rows: TabularRow[]; y: Float64Array };
  readonly pre: Preprocessor;
  readonly xtr: Float64Array;
  readonly xva: Float64Array;
  readonly warnings: readonly TabularWarning[];
  /** The GBDT's binning of these matrices, made by the first GBDT fit and reused by the next ones. */
  readonly gbdtCache: GbdtBinnedCache;
}

/** Fits the encoders, builds both matrices and runs the leakage check for the rows of `o`. */
export function prepareTabular(o: PrepareTabularOptions): PreparedTabular {
  const task = o.task;
  const classes =
    task === 'classification'
      ? (o.classes ??
        [
          ...new Set(o.train.rows.map((r) => categoryOf(r[o.target])).filter((c): c is string => c !== null)),
        ].sort())
      : [];
  if (task === 'classification' && classes.length < 2)
    throw new TabularTrainingError('BAD_TARGET', `the target "${o.target}" needs at least two classes`);
  const tr = keep(o.train.rows, encodeTarget(o.train.rows, o.target, task, classes));
  const va = keep(o.validation.rows, encodeTarget(o.validation.rows, o.target, task, classes));
  if (tr.rows.length < 10 || va.rows.length < 2)
    throw new TabularTrainingError(
      'TOO_FEW_ROWS',
      `${tr.rows.length} training and ${va.rows.length} validation rows have a usable "${o.target}"; at least 10 and 2 are needed`,
    );
  const columns = (o.columns ?? Object.keys(tr.rows[0] ?? {})).filter((c) => c !== o.target);
  const K = task === 'classification' ? classes.length : 0;
  const seed = o.seed ?? 1;
  // The training cells are parsed once: fitting the encoders, then read by the matrix.
  const parsed = new Map<string, Float64Array>();
  const pre = fitPreprocessor(tr.rows, {
    columns,
    types: o.types,
    target: tr.y,
    numClasses: K,
    seed,
    parsed,
  });
  if (pre.features.length === 0)
    throw new TabularTrainingError(
      'NO_FEATURES',
      'no usable feature column (all are empty, constant or identifiers)',
    );
  const xtr = transformTrainingRows(pre, tr.rows, { target: tr.y, numClasses: K, seed, parsed });
  const xva = transformRows(pre, va.rows);
  const warnings: TabularWarning[] = pre.dropped.map((c) => ({
    code: `${c.reason}_column` as const,
    subject: c.column,
    message:
      c.reason === 'constant'
        ? `column \`${c.column}\` has a single value in the training split; it was left out`
        : c.reason === 'identifier'
          ? `column \`${c.column}\` has a distinct value on (almost) every row, like an identifier; it was left out`
          : `column \`${c.column}\` has no values in the training split; it was left out`,
  }));
  warnings.push(...leakage(pre, { ...tr, x: xtr }, { ...va, x: xva }, task, K));
  return { options: o, task, classes, K, tr, va, pre, xtr, xva, warnings, gbdtCache: new GbdtBinnedCache() };
}

/**
 * Fits encoders on the training split, trains each candidate (histogram GBDT with two settings, a
 * linear model) with early stopping / regularization chosen on the validation split, and keeps the
 * candidate with the lowest validation loss, or the linear one when it is within one standard error
 * of that (selection.ts). The test split is not touched here.
 */
export async function trainTabular(o: TrainTabularOptions): Promise<TrainTabularResult> {
  const prep = o.prepared ?? prepareTabular(o);
  const { task, classes, K, tr, va, pre, xtr, xva } = prep;
  const d = pre.features.length;
  const train = { x: xtr, rows: tr.rows.length, features: d };
  const valid = { x: xva, rows: va.rows.length, features: d };
  const objective = task === 'regression' ? 'regression' : K === 2 ? 'binary' : 'multiclass';

  const base = (model: TabularModelArtifact['model']): TabularModelArtifact => ({
    format: TABULAR_MODEL_FORMAT,
    version: 1,
    task,
    target: prep.options.target,
    classes: task === 'classification' ? classes : null,
    input: inputSchemaOf(pre.encoders),
    dropped: pre.dropped.map((c) => c.column),
    preprocessing: { encoders: pre.encoders, features: pre.features, featureColumns: pre.featureColumns },
    model,
  });

  const settings: Record<CandidateName, Partial<GbdtParams> | null> = {
    // scikit-learn HistGradientBoosting's defaults (max_iter 100, n_iter_no_change 10 included;
    // early stopping on our validation split rather than on 10% of train).
    gbdt: {
      learningRate: 0.1,
      maxLeaves: 31,
      minSamplesLeaf: 20,
      l2: 0,
      maxIterations: 100,
      earlyStoppingRounds: 10,
    },
    // For small tables, where 20 rows per leaf leaves few splits.
    gbdt_small: {
      learningRate: 0.1,
      maxLeaves: 15,
      minSamplesLeaf: 5,
      l2: 1,
      maxIterations: 100,
      earlyStoppingRounds: 10,
    },
    linear: null,
  };
  const results: { c: TabularCandidate; artifact: TabularModelArtifact }[] = [];
  // Read once: the per-iteration callback then does not check the shape of the caller's options
  // object (each caller's differs; a new one deoptimized trainGbdt, which inlines the callback).
  const onIteration = o.onIteration;
  const deadline = o.deadline;
  const rungs = o.rungs;
  for (const name of o.candidates ?? (['linear', 'gbdt', 'gbdt_small'] as const)) {
    if (results.length > 0 && o.deadline !== undefined && Date.now() >= o.deadline) break;
    // The small-table setting only where 20 rows per leaf is restrictive.
    if (name === 'gbdt_small' && results.length > 0 && tr.rows.length > SMALL_TABLE_ROWS) continue;
    const started = Date.now();
    let artifact: TabularModelArtifact;
    let iterations: number | undefined;
    const own = settings[name];
    const params = own && { ...own, ...o.gbdt };
    // The gbdt's validation predictions come from its training (no second pass over the trees).
    const fitted: GbdtFitted = {};
    let stoppedAtRung: number | undefined;
    if (params) {
      let lowest = Infinity;
      const gbdt = trainGbdt(
        train,
        tr.y,
        {
          objective,
          numClasses: K,
          maxIterations: 300,
          earlyStoppingRounds: 20,
          ...params,
          onIteration: (it) => {
            onIteration?.(it);
            if (rungs && it.validLoss !== undefined) {
              if (it.validLoss < lowest) lowest = it.validLoss;
              if (rungs.stops(it.iteration, lowest)) {
                stoppedAtRung = it.iteration;
                return false;
              }
            }
            return deadline === undefined ? true : Date.now() < deadline;
          },
        },
        { m: valid, target: va.y },
        fitted,
        prep.gbdtCache,
      );
      iterations = gbdt.iterations;
      artifact = base({ type: 'gbdt', gbdt });
    } else {
      const linear = trainLinear(
        train,
        tr.y,
        { objective: task === 'regression' ? 'regression' : 'classification', numClasses: K },
        { m: valid, target: va.y },
      );
      artifact = base({ type: 'linear', linear });
    }
    const trainMs = Date.now() - started;
    const scores = validationScores(
      artifact,
      fitted.validPredictions ?? predictMatrix(artifact, xva, va.rows.length),
      va.y,
    );
    const c: TabularCandidate = {
      name,
      params: params ?? { l2: artifact.model.type === 'linear' ? artifact.model.linear.l2 : null },
      ...scores,
      trainMs,
      ...(iterations !== undefined ? { iterations } : {}),
      ...(stoppedAtRung !== undefined ? { stoppedAtRung } : {}),
    };
    results.push({ c, artifact });
    await o.onCandidate?.(c);
  }
  // The one-standard-error rule (selection.ts): the linear model when it is within one standard
  // error of the lowest validation loss.
  const best =
    results[
      Math.max(
        0,
        oneStandardErrorChoice(
          results.map((r) => ({
            family: r.artifact.model.type,
            loss: r.c.validLoss,
            lossSE: r.c.validLossSE,
          })),
        ),
      )
    ];
  return {
    artifact: best.artifact,
    chosen: best.c,
    candidates: results.map((r) => r.c),
    dropped: pre.dropped,
    warnings: [...prep.warnings],
    rows: { train: tr.rows.length, validation: va.rows.length },
  };
}

/** Validation loss and score from the model's validation predictions `p` (as predictMatrix's). */
function validationScores(
  a: TabularModelArtifact,
  p: Float64Array,
  y: Float64Array,
): { validLoss: number; validScore: number; validLossSE: number } {
  const n = y.length;
  // Per-row loss terms (squared errors, or log losses), for the standard error.
  const terms = new Float64Array(n);
  if (a.task === 'regression') {
    let se = 0;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i] / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const e = (p[i] - y[i]) ** 2;
      terms[i] = e;
      se += e;
      ss += (y[i] - mean) ** 2;
    }
    return {
      validLoss: Math.sqrt(se / n),
      validScore: ss > 0 ? 1 - se / ss : 0,
      validLossSE: lossStandardError(terms, 'rmse'),
    };
  }
  const K = a.classes!.length;
  let ll = 0;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const l = -Math.log(Math.max(1e-15, p[i * K + y[i]]));
    terms[i] = l;
    ll += l;
    let b = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + b]) b = k;
    if (b === y[i]) ok++;
  }
  return { validLoss: ll / n, validScore: ok / n, validLossSE: lossStandardError(terms, 'mean') };
}

/**
 * Columns that alone predict the target almost perfectly on the validation rows, by the rule
 * ingestion also applies (`leakageScore` in @modelsmith/contracts): real signal rarely does; a
 * column derived from the target (an ID encoding the label, a post-outcome field) does.
 */
function leakage(
  pre: Preprocessor,
  train: { rows: TabularRow[]; y: Float64Array; x: Float64Array },
  valid: { rows: TabularRow[]; y: Float64Array; x: Float64Array },
  task: TabularTask,
  K: number,
): TabularWarning[] {
  const out: TabularWarning[] = [];
  if (valid.rows.length < LEAKAGE_MIN_VALIDATION_ROWS) return out;
  const d = pre.features.length;
  const outputs = pre.encoders.reduce((m, e) => (e.type === 'target' ? e.prior.length : m), 0);
  let offset = 0;
  for (const e of pre.encoders) {
    const at = offset;
    offset += encoderWidth(e, outputs);
    const numeric = e.type === 'numeric' || e.type === 'boolean' || e.type === 'date';
    const parse = e.type === 'numeric' ? parseNumber : e.type === 'boolean' ? parseBoolean : parseDate;
    let tc: LeakageCells;
    let vc: LeakageCells;
    if (numeric) {
      // A numeric or boolean column's values are read from the matrix (already parsed), missing
      // where the indicator is set. Without an indicator the training split had no missing cell,
      // but the validation split may have some (filled in the matrix): those cells are parsed.
      tc =
        e.type === 'date'
          ? parsedColumn(train.rows, e.column, parse)
          : matrixColumn(train.x, train.rows.length, d, at, e.indicator);
      vc =
        e.type === 'date' || !e.indicator
          ? parsedColumn(valid.rows, e.column, parse)
          : matrixColumn(valid.x, valid.rows.length, d, at, true);
    } else {
      tc = train.rows.map((r) => categoryOf(r[e.column]));
      vc = valid.rows.map((r) => categoryOf(r[e.column]));
    }
    const w = leakageWarning(e.column, {
      task,
      classes: K,
      train: { cells: tc, y: train.y },
      validation: { cells: vc, y: valid.y },
    });
    if (w) out.push(w);
  }
  return out;
}

// The leakage check's column readers, each its own small function on typed arrays: called once per
// column, they are compiled early (the worker's warm-up makes them hot) and see one argument shape,
// where the same loops inside `leakage` ran unoptimized on a large table after a deoptimization.

/** A column's cells parsed (NaN when missing or not parseable). */
function parsedColumn(
  rows: readonly TabularRow[],
  column: string,
  parse: (v: unknown) => number | undefined,
): Float64Array {
  const m = rows.length;
  const v = new Float64Array(m);
  for (let i = 0; i < m; i++) v[i] = parse(rows[i][column]) ?? NaN;
  return v;
}

/** Feature `at` of a row-major matrix; NaN where the next feature (its missing indicator) is 1. */
function matrixColumn(x: Float64Array, m: number, d: number, at: number, indicator: boolean): Float64Array {
  const v = new Float64Array(m);
  if (indicator) for (let i = 0; i < m; i++) v[i] = x[i * d + at + 1] === 1 ? NaN : x[i * d + at];
  else for (let i = 0; i < m; i++) v[i] = x[i * d + at];
  return v;
}

export interface FeatureImportance {
  feature: string;
  column: string;
  importance: number;
}

/** Per encoded feature: total split gain (trees) or |standardized coefficient| summed over outputs (linear); largest first. */
export function featureImportance(a: TabularModelArtifact): FeatureImportance[] {
  const { features, featureColumns } = a.preprocessing;
  const raw =
    a.model.type === 'gbdt'
      ? a.model.gbdt.gain
      : features.map((_, f) =>
          (a.model as { linear: { weights: number[][] } }).linear.weights.reduce(
            (s, w) => s + Math.abs(w[f]),
            0,
          ),
        );
  return features
    .map((feature, f) => ({ feature, column: featureColumns[f], importance: raw[f] ?? 0 }))
    .sort((x, y) => y.importance - x.importance);
}

/** Importance summed per source column; largest first. */
export function columnImportance(a: TabularModelArtifact): { column: string; importance: number }[] {
  const sums = new Map<string, number>();
  for (const f of featureImportance(a)) sums.set(f.column, (sums.get(f.column) ?? 0) + f.importance);
  return [...sums.entries()]
    .map(([column, importance]) => ({ column, importance }))
    .sort((x, y) => y.importance - x.importance);
}
