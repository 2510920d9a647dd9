/**
 * Feature binning for histogram tree learning: per feature at most `maxBins` bins, separated by
 * thresholds halfway between neighbouring distinct training values (quantiles when a feature has
 * more distinct values than bins). A value `x` falls in the first bin `b` with `x <= thresholds[b]`
 * (the last bin when none), so a split "bin <= b" is exactly "x <= thresholds[b]" on raw values:
 * trees exported with raw thresholds predict the same as during training.
 */
export interface Binning {
  /** thresholds[f]: increasing; feature f has thresholds[f].length + 1 bins. */
  thresholds: Float64Array[];
}

/**
 * `minBinRows`: when a feature has more distinct values than bins, at most one bin per that many
 * non-missing training rows (LightGBM's `min_data_in_bin`, default 3 there): on small tables 255
 * quantile bins would hold one or two rows each, and every tree node scans every bin.
 */
export function fitBinning(
  x: Float64Array,
  rows: number,
  features: number,
  maxBins = 255,
  minBinRows = 1,
): Binning {
  const col = new Float64Array(rows);
  // No object or array literal: a job's fits keep the binning (GbdtBinnedCache), and V8 deoptimizes
  // the code allocating at a literal's site when its objects start surviving garbage collection.
  return new FittedBinning(
    Array.from({ length: features }, (_, f) => featureCuts(x, rows, features, f, col, maxBins, minBinRows)),
  );
}

class FittedBinning implements Binning {
  constructor(readonly thresholds: Float64Array[]) {}
}

/**
 * Feature `f`'s thresholds (`col`: scratch space of `rows` values). Its own function, called once
 * per feature, so it is compiled early (see fitPreprocessor's helpers).
 */
function featureCuts(
  x: Float64Array,
  rows: number,
  features: number,
  f: number,
  col: Float64Array,
  maxBins: number,
  minBinRows: number,
): Float64Array {
  let m = 0;
  for (let i = 0; i < rows; i++) {
    const v = x[i * features + f];
    if (!Number.isNaN(v)) col[m++] = v;
  }
  const sorted = col.subarray(0, m).slice().sort();
  const distinct: number[] = [];
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
  const cuts: number[] = [];
  const bins = Math.min(maxBins, Math.max(2, Math.floor(m / Math.max(1, minBinRows))));
  if (distinct.length <= bins) {
    for (let i = 1; i < distinct.length; i++) cuts.push(midpoint(distinct[i - 1], distinct[i]));
  } else {
    for (let b = 1; b < bins; b++) {
      const q = sorted[Math.min(m - 1, Math.floor((b * m) / bins))];
      const idx = lowerBound(distinct, q);
      // Cut below the quantile value so it starts a bin; skip cuts that repeat.
      if (idx > 0) {
        const t = midpoint(distinct[idx - 1], distinct[idx]);
        if (cuts.length === 0 || t > cuts[cuts.length - 1]) cuts.push(t);
      }
    }
  }
  return Float64Array.from(cuts);
}

function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  // Guard against rounding putting the midpoint at b (then b would fall in the lower bin).
  return m < b ? m : a;
}

function lowerBound(xs: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bin of `v`: the first b with v <= thresholds[b], else the last bin (NaN too). */
export function binOf(thresholds: Float64Array, v: number): number {
  if (Number.isNaN(v)) return thresholds.length;
  return lowerBound(thresholds, v);
}

/** Row-major bin codes [rows x features]. */
export function applyBinning(b: Binning, x: Float64Array, rows: number, features: number): Uint8Array {
  const out = new Uint8Array(rows * features);
  for (let f = 0; f < features; f++) {
    const t = b.thresholds[f];
    if (t.length > 255) throw new RangeError('at most 256 bins per feature');
    for (let i = 0; i < rows; i++) out[i * features + f] = binOf(t, x[i * features + f]);
  }
  return out;
}
