import { buildReport, type EvaluationReport } from '../eval/evaluate';
import { predictMatrix, type TabularModelArtifact } from './artifact';
import { transformRows } from './preprocess';
import { regressionReport, type RegressionReport } from './regression-metrics';
import {
  columnImportance,
  encodeTarget,
  featureImportance,
  type FeatureImportance,
  type TabularCandidate,
  type TabularWarning,
} from './train-tabular';
import type { TabularRow } from './values';

/**
 * A tabular model's evaluation on held-out rows: the classification report (as for images) or
 * regression metrics, plus feature importance (per encoded feature and per source column).
 */
export type TabularEvaluation = {
  task: 'classification' | 'regression';
  target: string;
  numSamples: number;
  /** Classification: accuracy. */
  accuracy?: number;
  classification?: EvaluationReport;
  regression?: RegressionReport;
  featureImportance: {
    kind: 'gain' | 'coefficient';
    features: FeatureImportance[];
    columns: { column: string; importance: number }[];
  };
  model: { type: 'gbdt' | 'linear'; candidates?: TabularCandidate[]; chosen?: string };
  warnings?: TabularWarning[];
};

export function evaluateTabular(
  a: TabularModelArtifact,
  rows: readonly TabularRow[],
  extra: { candidates?: TabularCandidate[]; chosen?: string; warnings?: TabularWarning[] } = {},
): TabularEvaluation {
  const y = encodeTarget(rows, a.target, a.task, a.classes ?? []);
  const usable = rows.filter((_, i) => !Number.isNaN(y[i]));
  const yk = y.filter((v) => !Number.isNaN(v));
  const x = transformRows({ ...a.preprocessing, dropped: [] }, usable);
  const p = predictMatrix(a, x, usable.length);
  const importance = {
    kind: a.model.type === 'gbdt' ? ('gain' as const) : ('coefficient' as const),
    features: featureImportance(a).slice(0, 200),
    columns: columnImportance(a),
  };
  const common = {
    task: a.task,
    target: a.target,
    numSamples: usable.length,
    featureImportance: importance,
    model: {
      type: a.model.type,
      ...(extra.candidates ? { candidates: extra.candidates } : {}),
      ...(extra.chosen ? { chosen: extra.chosen } : {}),
    },
    ...(extra.warnings ? { warnings: extra.warnings } : {}),
  };
  if (a.task === 'regression') return { ...common, regression: regressionReport(yk, p) };
  const K = a.classes!.length;
  const report = buildReport(
    { numClasses: K, probs: Float32Array.from(p), labels: Int32Array.from(yk) },
    { classNames: a.classes!, topK: [1, Math.min(5, K)] },
  );
  return { ...common, accuracy: report.accuracy, classification: report };
}
