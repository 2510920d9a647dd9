/**
 * How the console ranks a job's search trials: by the metric the search itself chose by (the worker's
 * TrialRank): text trials by validation macro-F1, tabular trials by validation loss (log loss or
 * RMSE, lowest first), image trials by validation accuracy. Recognized from the trials' metrics.
 */
export interface TrialMetric {
  key: 'validationMacroF1' | 'validationLoss' | 'validationAccuracy';
  label: string;
  higherIsBetter: boolean;
  /** Shown as a percentage (accuracy, F1) or as a plain number (a loss). */
  percent: boolean;
}

const METRICS: readonly TrialMetric[] = [
  { key: 'validationMacroF1', label: 'Validation macro-F1', higherIsBetter: true, percent: true },
  { key: 'validationLoss', label: 'Validation loss', higherIsBetter: false, percent: false },
  { key: 'validationAccuracy', label: 'Validation accuracy', higherIsBetter: true, percent: true },
];

type Metrics = Record<string, unknown> | null | undefined;

/** The value of `key` in a trial's metrics (image trials' older rows say `accuracy`), or undefined. */
export function trialValue(metrics: Metrics, key: TrialMetric['key']): number | undefined {
  const m = metrics ?? {};
  const v = m[key] ?? (key === 'validationAccuracy' ? m.accuracy : undefined);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The metric the trials were chosen by: the first of macro-F1, loss, accuracy that any trial reports. */
export function trialMetric(trials: readonly { metrics?: Metrics }[]): TrialMetric {
  return METRICS.find((m) => trials.some((t) => trialValue(t.metrics, m.key) !== undefined)) ?? METRICS[2];
}

/** The trials best first by `metric`; trials without a value (running, failed) last, in their order. */
export function rankTrials<T extends { metrics?: Metrics }>(trials: readonly T[], metric: TrialMetric): T[] {
  const sign = metric.higherIsBetter ? -1 : 1;
  return trials
    .map((t, i) => ({ t, i, v: trialValue(t.metrics, metric.key) }))
    .sort((a, b) =>
      a.v === undefined || b.v === undefined
        ? (a.v === undefined ? 1 : 0) - (b.v === undefined ? 1 : 0) || a.i - b.i
        : sign * (a.v - b.v) || a.i - b.i,
    )
    .map((x) => x.t);
}
