import { gbdtPredict, type GbdtModel } from './gbdt';
import { linearPredict, type LinearModel } from './linear';
import {
  inputColumnType,
  invalidCell,
  transformRows,
  type ColumnEncoder,
  type ColumnType,
  type Preprocessor,
} from './preprocess';
import type { TabularRow } from './values';

/** File name of a tabular model inside its artifact prefix. */
export const TABULAR_MODEL_FILE = 'tabular-model.json';
export const TABULAR_MODEL_FORMAT = 'modelsmith-tabular';

export type TabularTask = 'classification' | 'regression';

export interface TabularInputColumn {
  name: string;
  type: ColumnType;
  /** Categories seen in training (one-hot columns), for clients' forms. */
  categories?: string[];
}

/**
 * Everything needed to reproduce a prediction: the input schema, the fitted encoders with the
 * feature order, and the model (trees with raw thresholds, or linear weights). Plain JSON.
 */
export interface TabularModelArtifact {
  format: typeof TABULAR_MODEL_FORMAT;
  version: 1;
  task: TabularTask;
  target: string;
  /** Class names by index (classification), else null. */
  classes: string[] | null;
  /** Columns a record may carry (all optional: a missing value is imputed). */
  input: { columns: TabularInputColumn[] };
  /** Columns left out in training (empty, constant, identifier-like): accepted in records and ignored. */
  dropped: string[];
  preprocessing: Pick<Preprocessor, 'encoders' | 'features' | 'featureColumns'>;
  model: { type: 'gbdt'; gbdt: GbdtModel } | { type: 'linear'; linear: LinearModel };
}

export function inputSchemaOf(encoders: readonly ColumnEncoder[]): { columns: TabularInputColumn[] } {
  return {
    columns: encoders.map((e) => ({
      name: e.column,
      type: inputColumnType(e),
      ...(e.type === 'onehot' ? { categories: e.categories } : {}),
    })),
  };
}

/** Predictions on an already encoded matrix: values [rows], or probabilities [rows x classes]. */
export function predictMatrix(a: TabularModelArtifact, x: Float64Array, rows: number): Float64Array {
  const m = { x, rows, features: a.preprocessing.features.length };
  return a.model.type === 'gbdt' ? gbdtPredict(a.model.gbdt, m) : linearPredict(a.model.linear, m);
}

export type TabularPrediction =
  { value: number } | { label: string; index: number; score: number; probabilities: Record<string, number> };

/** A bad cell in a record: the field's name and why. */
export interface InstanceProblem {
  index: number;
  field: string;
  message: string;
}

/**
 * Checks records against the model's input schema: each must be an object whose fields are input
 * columns (the target is tolerated and ignored) with values of the column's type; absent or null
 * fields are missing values. Returns the first problem, or null.
 */
export function validateInstances(
  a: TabularModelArtifact,
  instances: readonly unknown[],
): InstanceProblem | null {
  const byName = new Map(a.preprocessing.encoders.map((e) => [e.column, e]));
  const known = new Set(a.input.columns.map((c) => c.name));
  for (let i = 0; i < instances.length; i++) {
    const r = instances[i];
    if (typeof r !== 'object' || r === null || Array.isArray(r))
      return { index: i, field: '', message: 'must be an object of column name -> value' };
    for (const [field, v] of Object.entries(r)) {
      if (field === a.target) continue;
      if (!known.has(field)) {
        if (a.dropped.includes(field)) continue;
        return { index: i, field, message: 'is not an input column of this model' };
      }
      const e = byName.get(field)!;
      const why = invalidCell(e, v);
      if (why) return { index: i, field, message: why };
    }
  }
  return null;
}

/** Predicts validated records (see {@link validateInstances}). */
export function predictRecords(a: TabularModelArtifact, records: readonly TabularRow[]): TabularPrediction[] {
  const x = transformRows({ ...a.preprocessing, dropped: [] }, records);
  const out = predictMatrix(a, x, records.length);
  if (a.task === 'regression') return Array.from(out, (value) => ({ value }));
  const classes = a.classes ?? [];
  const K = classes.length;
  return records.map((_, i) => {
    let best = 0;
    const probabilities: Record<string, number> = {};
    for (let k = 0; k < K; k++) {
      probabilities[classes[k]] = out[i * K + k];
      if (out[i * K + k] > out[i * K + best]) best = k;
    }
    return { label: classes[best], index: best, score: out[i * K + best], probabilities };
  });
}
