/**
 * The `possible_leakage` rule, shared by tabular ingestion (libs/datasets, when the upload names its
 * target) and tabular training (libs/ml, for the job's target): plain TypeScript, no dependencies.
 *
 * A column leaks when, on its own, it predicts the target of the validation rows almost perfectly:
 * its cells are grouped (a numeric column into 16 quantile bins of its training values plus one bin
 * for missing cells; a categorical column by value), each group predicts the training rows' mean
 * target (regression) or majority class (classification), and a validation cell whose group has no
 * training row gets the prediction of every training row. The score is the validation accuracy
 * (classification) or R² (regression; for a numeric column without missing validation cells, the
 * larger of R² and |Pearson r|). A column scoring at least `LEAKAGE_SCORE` is flagged.
 */

/** Score from which a column is flagged. */
export const LEAKAGE_SCORE = 0.99;
/**
 * Fewer validation rows than this: nothing is flagged. Real signal separates a few rows perfectly
 * often enough (iris's `petal_width` alone classified all 15 validation rows of the tabular e2e's
 * split) that a perfect score on fewer rows says nothing about a leak.
 */
export const LEAKAGE_MIN_VALIDATION_ROWS = 30;

export type LeakageTask = 'classification' | 'regression';

/**
 * One column's cells on the training and validation rows: numbers (NaN: missing) for a numeric,
 * boolean or date column, category keys (null: missing) for a categorical one.
 */
export type LeakageCells = Float64Array | readonly (string | null)[];

export interface LeakageInput {
  task: LeakageTask;
  /** Number of classes (classification); targets are class indices 0..classes-1. */
  classes: number;
  train: { cells: LeakageCells; y: ArrayLike<number> };
  validation: { cells: LeakageCells; y: ArrayLike<number> };
}

const MISSING_KEY = '\u0000missing';

/** The column's score (see the module comment); null with too few validation rows. */
export function leakageScore(input: LeakageInput): number | null {
  const { task, train, validation: valid } = input;
  if (valid.y.length < LEAKAGE_MIN_VALIDATION_ROWS) return null;
  const K = task === 'regression' ? 1 : Math.max(1, input.classes);
  let trainCodes: Int32Array;
  let validCodes: Int32Array;
  let codes: number;
  let vx: Float64Array | null = null;
  if (train.cells instanceof Float64Array) {
    vx = valid.cells as Float64Array;
    const cuts = quantileCuts(train.cells);
    trainCodes = binCodes(train.cells, cuts);
    validCodes = binCodes(vx, cuts);
    codes = cuts.length + 2;
  } else {
    const index = new Map<string, number>();
    trainCodes = categoryCodes(train.cells, index, true);
    validCodes = categoryCodes(valid.cells as readonly (string | null)[], index, false);
    codes = index.size;
  }
  const table = codeTable(trainCodes, codes, train.y, task, K);
  return task === 'regression'
    ? regressionScore(table, codes, validCodes, valid.y, vx)
    : classificationScore(table, codes, validCodes, valid.y, K);
}

// The rule's loops, each its own small function on typed arrays: called once per column, they are
// compiled early (the tabular worker's warm-up makes them hot) and see one argument shape, where the
// same loops in one large function ran unoptimized on a large table after a deoptimization.

/** Up to 15 distinct cuts at the 16-quantiles of the non-missing values. */
function quantileCuts(tx: Float64Array): number[] {
  let present = 0;
  for (let i = 0; i < tx.length; i++) if (!Number.isNaN(tx[i])) present++;
  const xs = new Float64Array(present);
  for (let i = 0, j = 0; i < tx.length; i++) if (!Number.isNaN(tx[i])) xs[j++] = tx[i];
  xs.sort();
  return [...new Set(Array.from({ length: 15 }, (_, b) => xs[Math.floor(((b + 1) * xs.length) / 16)]))];
}

/** Each value's bin among `cuts` (the last code, cuts.length + 1, for missing). */
function binCodes(v: Float64Array, cuts: number[]): Int32Array {
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (Number.isNaN(x)) out[i] = cuts.length + 1;
    else {
      let b = 0;
      while (b < cuts.length && x > cuts[b]) b++;
      out[i] = b;
    }
  }
  return out;
}

/** Each category's code in `index` (added when `add`; -1 for one the training rows lack). */
function categoryCodes(
  cells: readonly (string | null)[],
  index: Map<string, number>,
  add: boolean,
): Int32Array {
  const out = new Int32Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const key = cells[i] ?? MISSING_KEY;
    let c = index.get(key);
    if (c === undefined && add) index.set(key, (c = index.size));
    out[i] = c ?? -1;
  }
  return out;
}

/** Per code (and the last row: every training row): [rows, target sum or per-class counts...]. */
function codeTable(
  trainCodes: Int32Array,
  codes: number,
  y: ArrayLike<number>,
  task: LeakageTask,
  width: number,
): Float64Array {
  const W = width + 1;
  const table = new Float64Array((codes + 1) * W);
  const all = codes * W;
  for (let i = 0; i < trainCodes.length; i++) {
    const own = trainCodes[i] * W;
    table[own]++;
    table[all]++;
    if (task === 'regression') {
      table[own + 1] += y[i];
      table[all + 1] += y[i];
    } else {
      table[own + 1 + y[i]]++;
      table[all + 1 + y[i]]++;
    }
  }
  return table;
}

/** R² of the per-code training means on the validation rows, or |Pearson r| of the values when higher. */
function regressionScore(
  table: Float64Array,
  codes: number,
  validCodes: Int32Array,
  y: ArrayLike<number>,
  vx: Float64Array | null,
): number {
  const n = y.length;
  const W = 2;
  let se = 0;
  let ss = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] / n;
  for (let i = 0; i < n; i++) {
    // Unseen codes, and codes with no training row, fall back to every training row.
    const c = validCodes[i];
    const at = c >= 0 && table[c * W] > 0 ? c * W : codes * W;
    se += (table[at + 1] / table[at] - y[i]) ** 2;
    ss += (y[i] - mean) ** 2;
  }
  let score = ss > 0 ? 1 - se / ss : 0;
  if (vx && vx.every((x) => !Number.isNaN(x))) score = Math.max(score, Math.abs(pearson(vx, y)));
  return score;
}

/** Accuracy of the per-code majority class on the validation rows. */
function classificationScore(
  table: Float64Array,
  codes: number,
  validCodes: Int32Array,
  y: ArrayLike<number>,
  K: number,
): number {
  const n = y.length;
  const W = K + 1;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const c = validCodes[i];
    const at = c >= 0 && table[c * W] > 0 ? c * W : codes * W;
    let b = 0;
    for (let k = 1; k < K; k++) if (table[at + 1 + k] > table[at + 1 + b]) b = k;
    if (b === y[i]) ok++;
  }
  return ok / n;
}

/** The `possible_leakage` warning for `column`, or null when its score is below `LEAKAGE_SCORE`. */
export function leakageWarning(
  column: string,
  input: LeakageInput,
): { code: 'possible_leakage'; subject: string; message: string } | null {
  const score = leakageScore(input);
  if (score === null || score < LEAKAGE_SCORE) return null;
  return {
    code: 'possible_leakage',
    subject: column,
    message: `column \`${column}\` alone predicts the target on the validation rows (${input.task === 'regression' ? 'R²/|r|' : 'accuracy'} ${score.toFixed(3)}); check that it is not derived from the target`,
  };
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}
