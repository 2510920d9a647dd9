import { mulberry32 } from './random';
import {
  categoryOf,
  inferKind,
  parseBoolean,
  parseDate,
  parseNumber,
  type InferredKind,
  type TabularRow,
} from './values';

/**
 * Feature encoders fitted on the training split: plain JSON, applied the same way in training,
 * serving and outside the platform (docs/tabular.md spells the arithmetic out).
 *
 * - numeric / boolean: the value; missing -> the training median, plus a 0/1 missing indicator
 *   when the training split had missing values;
 * - date: year, month (1-12), day of week (0 = Sunday, UTC), ordinal (days since 1970-01-01);
 *   missing -> the training median date, plus an indicator;
 * - categorical with at most `maxOneHot` categories: one 0/1 feature per category (unseen and
 *   missing are all zeros);
 * - categorical with more: frequency in the training split, and a smoothed target mean per output
 *   (regression: the mean; classification: per-class rate, for up to `maxTargetEncodedClasses`
 *   classes). Training rows get out-of-fold encodings so a row never sees its own target.
 */
export type ColumnEncoder =
  | { type: 'numeric'; column: string; fill: number; indicator: boolean }
  | { type: 'boolean'; column: string; fill: number; indicator: boolean }
  | { type: 'date'; column: string; fill: number; indicator: boolean }
  | { type: 'onehot'; column: string; categories: string[] }
  | {
      type: 'target';
      column: string;
      /** category -> [training count, target mean per output...] */
      table: Record<string, number[]>;
      /** Rows seen in training (frequency denominator). */
      total: number;
      /** Target mean per output over the training split (unseen categories). */
      prior: number[];
    };

export type ColumnType = 'numeric' | 'boolean' | 'date' | 'categorical';

export interface DroppedColumn {
  column: string;
  reason: 'empty' | 'constant' | 'identifier';
}

export interface Preprocessor {
  encoders: ColumnEncoder[];
  /** Output feature names, in matrix column order. */
  features: string[];
  /** Feature index -> source column. */
  featureColumns: string[];
  dropped: DroppedColumn[];
}

export interface FitOptions {
  /** Columns to use (the target excluded by the caller). */
  columns: readonly string[];
  /** Known column types (e.g. from the ingestion report); others are inferred from the rows. */
  types?: Readonly<Record<string, string>>;
  /** Target values per training row: regression values, or class indices. */
  target: ArrayLike<number>;
  /** Classes (classification) or 0 (regression). */
  numClasses: number;
  maxOneHot?: number;
  maxTargetEncodedClasses?: number;
  /** Categories kept in a target-encoding table (most frequent first). */
  maxCategories?: number;
  seed?: number;
  /**
   * When given, receives each numeric, boolean and date column's parsed training cells (NaN where
   * missing), so {@link transformTrainingRows} does not parse them again.
   */
  parsed?: Map<string, Float64Array>;
}

const SMOOTHING = 10;
const FOLDS = 5;

function kindOf(declared: string | undefined, values: unknown[]): InferredKind {
  switch (declared) {
    case 'numeric':
    case 'boolean':
    case 'date':
    case 'categorical':
    case 'empty':
      return declared;
    case 'text':
      return 'categorical';
    case undefined:
    default:
      return inferKind(values);
  }
}

function median(xs: Float64Array): number {
  if (xs.length === 0) return 0;
  // A typed array sorts numerically without a comparator call per comparison.
  const s = xs.slice().sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const DAY = 86_400_000;

/** Number of features an encoder outputs. */
export function encoderWidth(e: ColumnEncoder, outputs: number): number {
  switch (e.type) {
    case 'numeric':
    case 'boolean':
      return e.indicator ? 2 : 1;
    case 'date':
      return e.indicator ? 5 : 4;
    case 'onehot':
      return e.categories.length;
    case 'target':
      return 1 + outputs;
  }
}

function featureNames(e: ColumnEncoder): string[] {
  const c = e.column;
  switch (e.type) {
    case 'numeric':
    case 'boolean':
      return e.indicator ? [c, `${c}__missing`] : [c];
    case 'date': {
      const base = [`${c}__year`, `${c}__month`, `${c}__dayofweek`, `${c}__ordinal`];
      return e.indicator ? [...base, `${c}__missing`] : base;
    }
    case 'onehot':
      return e.categories.map((k) => `${c}=${k}`);
    case 'target':
      return [`${c}__frequency`, ...e.prior.map((_, i) => `${c}__target${e.prior.length > 1 ? i : ''}`)];
  }
}

/** Target columns of the encoding: regression value, binary positive rate, or one rate per class. */
function targetOutputs(target: ArrayLike<number>, numClasses: number, maxClasses: number): number[][] | null {
  const n = target.length;
  if (numClasses === 0) return [Array.from(target)];
  if (numClasses === 2) return [Array.from(target, (y) => (y === 1 ? 1 : 0))];
  if (numClasses > maxClasses) return null;
  return Array.from({ length: numClasses }, (_, k) => {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = target[i] === k ? 1 : 0;
    return out;
  });
}

/**
 * A column's cells parsed (NaN where missing or not parseable). Its own small function: called once
 * per column, it is compiled early (the worker's warm-up makes it hot), where the same loop inside
 * fitPreprocessor waited for a large table to be optimized.
 */
function parsedColumn(values: readonly unknown[], parse: (v: unknown) => number | undefined): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = parse(values[i]) ?? NaN;
  return out;
}

/** The parsed column's present values, in row order. */
function presentValues(col: Float64Array): Float64Array {
  let m = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i])) m++;
  const xs = new Float64Array(m);
  for (let i = 0, j = 0; i < col.length; i++) if (!Number.isNaN(col[i])) xs[j++] = col[i];
  return xs;
}

/** One column's cells, in row order. */
function columnValues(rows: readonly TabularRow[], column: string): unknown[] {
  const out = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rows[i][column];
  return out;
}

/** Fits the encoders on the training rows. */
export function fitPreprocessor(rows: readonly TabularRow[], o: FitOptions): Preprocessor {
  const maxOneHot = o.maxOneHot ?? 10;
  const maxCats = o.maxCategories ?? 1000;
  const outputs = targetOutputs(o.target, o.numClasses, o.maxTargetEncodedClasses ?? 10);
  const encoders: ColumnEncoder[] = [];
  const dropped: DroppedColumn[] = [];
  for (const column of o.columns) {
    const values = columnValues(rows, column);
    const kind = kindOf(o.types?.[column], values);
    if (kind === 'empty') {
      dropped.push({ column, reason: 'empty' });
      continue;
    }
    if (kind === 'numeric' || kind === 'boolean' || kind === 'date') {
      const parse = kind === 'numeric' ? parseNumber : kind === 'boolean' ? parseBoolean : parseDate;
      const col = parsedColumn(values, parse);
      const xs = presentValues(col);
      const missing = col.length - xs.length;
      if (xs.length === 0) {
        dropped.push({ column, reason: 'empty' });
        continue;
      }
      const fill = median(xs);
      if (missing === 0 && xs.every((x) => x === xs[0])) {
        dropped.push({ column, reason: 'constant' });
        continue;
      }
      encoders.push({ type: kind, column, fill, indicator: missing > 0 });
      o.parsed?.set(column, col);
      continue;
    }
    // Categorical.
    const counts = new Map<string, number>();
    let missing = 0;
    for (const v of values) {
      const c = categoryOf(v);
      if (c === null) missing++;
      else counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    if (counts.size === 0 || (counts.size === 1 && missing === 0)) {
      dropped.push({ column, reason: counts.size === 0 ? 'empty' : 'constant' });
      continue;
    }
    const present = rows.length - missing;
    if (counts.size > maxOneHot && counts.size >= 0.9 * present && present >= 20) {
      dropped.push({ column, reason: 'identifier' });
      continue;
    }
    const ordered = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    if (counts.size <= maxOneHot) {
      encoders.push({ type: 'onehot', column, categories: ordered.map(([k]) => k).sort() });
      continue;
    }
    const kept = new Set(ordered.slice(0, maxCats).map(([k]) => k));
    encoders.push({
      type: 'target',
      column,
      ...targetTable(values, kept, outputs, rows.length, null),
    });
  }
  const features = encoders.flatMap(featureNames);
  const featureColumns = encoders.flatMap((e) => featureNames(e).map(() => e.column));
  return { encoders, features, featureColumns, dropped };
}

/** Counts and smoothed target means per category; rows where `use[i]` is false are not counted. */
function targetTable(
  values: readonly unknown[],
  kept: ReadonlySet<string>,
  outputs: number[][] | null,
  total: number,
  use: ((i: number) => boolean) | null,
): { table: Record<string, number[]>; total: number; prior: number[] } {
  const m = outputs?.length ?? 0;
  const sums = new Map<string, number[]>();
  const prior = new Array<number>(m).fill(0);
  let used = 0;
  values.forEach((v, i) => {
    if (use && !use(i)) return;
    used++;
    for (let k = 0; k < m; k++) prior[k] += outputs![k][i];
    const c = categoryOf(v);
    if (c === null || !kept.has(c)) return;
    let s = sums.get(c);
    if (!s) sums.set(c, (s = new Array<number>(m + 1).fill(0)));
    s[0]++;
    for (let k = 0; k < m; k++) s[k + 1] += outputs![k][i];
  });
  for (let k = 0; k < m; k++) prior[k] = used ? prior[k] / used : 0;
  const table: Record<string, number[]> = {};
  for (const [c, s] of sums)
    table[c] = [s[0], ...prior.map((p, k) => (s[k + 1] + SMOOTHING * p) / (s[0] + SMOOTHING))];
  return { table, total: use ? used : total, prior };
}

/** Writes one row's features for `e` at `out[offset..]`. Values are assumed valid (see validateRow). */
function encodeInto(e: ColumnEncoder, v: unknown, out: Float64Array, offset: number): void {
  switch (e.type) {
    case 'numeric':
      return encodeParsed(e, parseNumber(v) ?? NaN, out, offset);
    case 'boolean':
      return encodeParsed(e, parseBoolean(v) ?? NaN, out, offset);
    case 'date':
      return encodeParsed(e, parseDate(v) ?? NaN, out, offset);
    case 'onehot': {
      const c = categoryOf(v);
      for (let k = 0; k < e.categories.length; k++) out[offset + k] = e.categories[k] === c ? 1 : 0;
      return;
    }
    case 'target': {
      const c = categoryOf(v);
      const hit = c !== null && Object.hasOwn(e.table, c) ? e.table[c] : undefined;
      out[offset] = hit ? hit[0] / e.total : 0;
      for (let k = 0; k < e.prior.length; k++) out[offset + 1 + k] = hit ? hit[k + 1] : e.prior[k];
      return;
    }
  }
}

/** Writes a numeric, boolean or date encoder's features from its parsed cell `x` (NaN: missing). */
function encodeParsed(e: ColumnEncoder, x: number, out: Float64Array, offset: number): void {
  if (e.type === 'numeric' || e.type === 'boolean') {
    const miss = Number.isNaN(x);
    out[offset] = miss ? e.fill : x;
    if (e.indicator) out[offset + 1] = miss ? 1 : 0;
    return;
  }
  if (e.type !== 'date') return;
  const miss = Number.isNaN(x);
  const d = new Date(miss ? e.fill : x);
  out[offset] = d.getUTCFullYear();
  out[offset + 1] = d.getUTCMonth() + 1;
  out[offset + 2] = d.getUTCDay();
  out[offset + 3] = Math.floor(d.getTime() / DAY);
  if (e.indicator) out[offset + 4] = miss ? 1 : 0;
}

/** Row-major feature matrix [rows x features]. */
export function transformRows(
  p: Preprocessor,
  rows: readonly TabularRow[],
  parsed?: ReadonlyMap<string, Float64Array>,
): Float64Array {
  const d = p.features.length;
  const out = new Float64Array(rows.length * d);
  const outputs = outputsOf(p);
  // Columns already parsed (fitPreprocessor's `parsed`, same rows): written column by column.
  const cols = p.encoders.map((e) => parsed?.get(e.column));
  let off = 0;
  for (let j = 0; j < p.encoders.length; j++) {
    const e = p.encoders[j];
    const col = cols[j];
    if (col && col.length === rows.length) writeParsed(e, col, out, d, off);
    else writeCells(e, rows, out, d, off);
    off += encoderWidth(e, outputs);
  }
  return out;
}

/** Column `e` of the matrix (at feature `off`) from the rows' cells. */
function writeCells(
  e: ColumnEncoder,
  rows: readonly TabularRow[],
  out: Float64Array,
  d: number,
  off: number,
): void {
  for (let i = 0; i < rows.length; i++) encodeInto(e, rows[i][e.column], out, i * d + off);
}

/** Column `e` of the matrix (at feature `off`) from its parsed cells. */
function writeParsed(e: ColumnEncoder, col: Float64Array, out: Float64Array, d: number, off: number): void {
  for (let i = 0; i < col.length; i++) encodeParsed(e, col[i], out, i * d + off);
}

function outputsOf(p: Preprocessor): number {
  const t = p.encoders.find((e) => e.type === 'target');
  return t && t.type === 'target' ? t.prior.length : 0;
}

/**
 * The training matrix: like {@link transformRows}, except that target-encoded columns are encoded
 * out of fold (each row by the statistics of the other folds), so the model cannot learn a row's
 * own target through its category.
 */
export function transformTrainingRows(
  p: Preprocessor,
  rows: readonly TabularRow[],
  o: Pick<FitOptions, 'target' | 'numClasses' | 'maxTargetEncodedClasses' | 'seed' | 'parsed'>,
): Float64Array {
  const out = transformRows(p, rows, o.parsed);
  const targets = p.encoders.filter((e) => e.type === 'target');
  if (targets.length === 0) return out;
  const outputs = targetOutputs(o.target, o.numClasses, o.maxTargetEncodedClasses ?? 10);
  const rand = mulberry32(o.seed ?? 1);
  const fold = Int32Array.from(rows, () => Math.floor(rand() * FOLDS));
  const d = p.features.length;
  let offset = 0;
  for (const e of p.encoders) {
    const width = encoderWidth(e, outputsOf(p));
    if (e.type === 'target') {
      const values = rows.map((r) => r[e.column]);
      const kept = new Set(Object.keys(e.table));
      for (let f = 0; f < FOLDS; f++) {
        const part = {
          type: 'target' as const,
          column: e.column,
          ...targetTable(values, kept, outputs, rows.length, (i) => fold[i] !== f),
        };
        const tmp = new Float64Array(width);
        for (let i = 0; i < rows.length; i++) {
          if (fold[i] !== f) continue;
          encodeInto(part, values[i], tmp, 0);
          // Frequency stays the full-training one (it does not use the target).
          for (let k = 1; k < width; k++) out[i * d + offset + k] = tmp[k];
        }
      }
    }
    offset += width;
  }
  return out;
}

/** Declared input type of each column the encoders read (what serving validates against). */
export function inputColumnType(e: ColumnEncoder): ColumnType {
  switch (e.type) {
    case 'numeric':
    case 'boolean':
    case 'date':
      return e.type;
    case 'onehot':
    case 'target':
      return 'categorical';
  }
}

/** Why a cell does not fit its column's type, or null when it does (missing always fits). */
export function invalidCell(e: ColumnEncoder, v: unknown): string | null {
  if (v !== null && v !== undefined && typeof v === 'object')
    return 'must be a number, string, boolean or null';
  switch (e.type) {
    case 'numeric':
      return parseNumber(v) === undefined ? 'must be a number' : null;
    case 'boolean':
      return parseBoolean(v) === undefined ? 'must be a boolean (true/false, yes/no, 1/0)' : null;
    case 'date':
      return parseDate(v) === undefined ? 'must be a date (YYYY-MM-DD[Thh:mm[:ss]] or M/D/YYYY)' : null;
    case 'onehot':
    case 'target':
      return typeof v === 'string' && v.length > 1000 ? 'must be at most 1000 characters' : null;
  }
}
