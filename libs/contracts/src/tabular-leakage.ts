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
/** Fewer validation rows than this: nothing is flagged. */
export const LEAKAGE_MIN_VALIDATION_ROWS = 10;

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
  const n = valid.y.length;
  if (n < LEAKAGE_MIN_VALIDATION_ROWS) return null;
  const K = task === 'regression' ? 1 : Math.max(1, input.classes);
  let trainCodes: Int32Array;
  let validCodes: Int32Array;
  let codes: number;
  let vx: Float64Array | null = null;
  if (train.cells instanceof Float64Array) {
    const tx = train.cells;
    vx = valid.cells as Float64Array;
    let present = 0;
    for (let i = 0; i < tx.length; i++) if (!Number.isNaN(tx[i])) present++;
    const xs = new Float64Array(present);
    for (let i = 0, j = 0; i < tx.length; i++) if (!Number.isNaN(tx[i])) xs[j++] = tx[i];
    xs.sort();
    const cuts = [
      ...new Set(Array.from({ length: 15 }, (_, b) => xs[Math.floor(((b + 1) * xs.length) / 16)])),
    ];
    const bin = (x: number): number => {
      if (Number.isNaN(x)) return cuts.length + 1;
      let b = 0;
      while (b < cuts.length && x > cuts[b]) b++;
      return b;
    };
    trainCodes = new Int32Array(tx.length);
    for (let i = 0; i < tx.length; i++) trainCodes[i] = bin(tx[i]);
    validCodes = new Int32Array(vx.length);
    for (let i = 0; i < vx.length; i++) validCodes[i] = bin(vx[i]);
    codes = cuts.length + 2;
  } else {
    const index = new Map<string, number>();
    const code = (c: string | null, add: boolean): number => {
      const key = c ?? MISSING_KEY;
      let i = index.get(key);
      if (i === undefined && add) index.set(key, (i = index.size));
      return i ?? -1;
    };
    const tc = train.cells;
    const vc = valid.cells as readonly (string | null)[];
    trainCodes = Int32Array.from(tc, (c) => code(c, true));
    validCodes = Int32Array.from(vc, (c) => code(c, false));
    codes = index.size;
  }
  // Per code (and the last row: every training row): [rows, target sum or per-class counts...].
  const W = K + 1;
  const table = new Float64Array((codes + 1) * W);
  const all = codes * W;
  for (let i = 0; i < trainCodes.length; i++) {
    const own = trainCodes[i] * W;
    table[own]++;
    table[all]++;
    if (task === 'regression') {
      table[own + 1] += train.y[i];
      table[all + 1] += train.y[i];
    } else {
      table[own + 1 + train.y[i]]++;
      table[all + 1 + train.y[i]]++;
    }
  }
  // Unseen codes, and codes with no training row, fall back to every training row.
  const rowOf = (c: number) => (c >= 0 && table[c * W] > 0 ? c * W : all);
  if (task === 'regression') {
    let se = 0;
    let ss = 0;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += valid.y[i] / n;
    for (let i = 0; i < n; i++) {
      const at = rowOf(validCodes[i]);
      se += (table[at + 1] / table[at] - valid.y[i]) ** 2;
      ss += (valid.y[i] - mean) ** 2;
    }
    let score = ss > 0 ? 1 - se / ss : 0;
    if (vx && vx.every((x) => !Number.isNaN(x))) score = Math.max(score, Math.abs(pearson(vx, valid.y)));
    return score;
  }
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const at = rowOf(validCodes[i]);
    let b = 0;
    for (let k = 1; k < K; k++) if (table[at + 1 + k] > table[at + 1 + b]) b = k;
    if (b === valid.y[i]) ok++;
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
