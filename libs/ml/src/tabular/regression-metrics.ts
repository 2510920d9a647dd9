/** Regression metrics over predictions: RMSE, MAE, R², and residual data for plots. */
export interface RegressionReport {
  numSamples: number;
  rmse: number;
  mae: number;
  /** 1 - SSE / SST (0 when the targets are constant). */
  r2: number;
  /** Up to `maxPoints` (actual, predicted) pairs, evenly spaced over the test rows. */
  residuals: { actual: number; predicted: number }[];
  /** Histogram of residuals (predicted - actual). */
  residualHistogram: { from: number; to: number; count: number }[];
}

export function regressionReport(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  o: { maxPoints?: number; bins?: number } = {},
): RegressionReport {
  const n = actual.length;
  if (predicted.length !== n) throw new RangeError('actual and predicted differ in length');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] / Math.max(1, n);
  let se = 0;
  let ae = 0;
  let ss = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = predicted[i] - actual[i];
    se += r * r;
    ae += Math.abs(r);
    ss += (actual[i] - mean) ** 2;
    lo = Math.min(lo, r);
    hi = Math.max(hi, r);
  }
  const maxPoints = o.maxPoints ?? 500;
  const step = Math.max(1, n / maxPoints);
  const residuals: RegressionReport['residuals'] = [];
  for (let t = 0; t < Math.min(n, maxPoints); t++) {
    const j = Math.floor(t * step);
    residuals.push({ actual: actual[j], predicted: predicted[j] });
  }
  const bins = o.bins ?? 20;
  const width = hi > lo ? (hi - lo) / bins : 1;
  const residualHistogram = n
    ? Array.from({ length: bins }, (_, b) => ({ from: lo + b * width, to: lo + (b + 1) * width, count: 0 }))
    : [];
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.floor((predicted[i] - actual[i] - lo) / width));
    residualHistogram[b].count++;
  }
  return {
    numSamples: n,
    rmse: n ? Math.sqrt(se / n) : 0,
    mae: n ? ae / n : 0,
    r2: ss > 0 ? 1 - se / ss : 0,
    residuals,
    residualHistogram,
  };
}
