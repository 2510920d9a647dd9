/**
 * Classification metrics as pure functions over predictions (no tensors): accuracy, top-k,
 * confusion matrix, per-class precision/recall/F1 with macro/weighted/micro averages, one-vs-rest
 * precision-recall curves with a suggested threshold per class, and calibration (ECE).
 *
 * Conventions: `probs` is row-major [samples x classes]; `labels` are class indices. A ratio whose
 * denominator is zero (e.g. precision of a class never predicted) is 0, as in scikit-learn's
 * default `zero_division` behaviour; curve statistics that do not exist (no positives) are null.
 */

export type Numeric = ArrayLike<number>;

/** Model outputs for a set of samples and their true labels. */
export interface Predictions {
  numClasses: number;
  /** Row-major [samples x numClasses] scores (probabilities for calibration to be meaningful). */
  probs: Numeric;
  labels: Numeric;
}

/** Builds {@link Predictions} from one probability row per sample. */
export function predictionsFromRows(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
): Predictions {
  if (rows.length !== labels.length) throw new RangeError(`${rows.length} rows but ${labels.length} labels`);
  const numClasses = rows[0]?.length ?? 0;
  const probs = new Float32Array(rows.length * numClasses);
  rows.forEach((r, i) => {
    if (r.length !== numClasses)
      throw new RangeError(`row ${i} has ${r.length} scores, expected ${numClasses}`);
    probs.set(r, i * numClasses);
  });
  return { numClasses, probs, labels: Int32Array.from(labels) };
}

export function numSamples(p: Predictions): number {
  const n = p.labels.length;
  if (p.probs.length !== n * p.numClasses) {
    throw new RangeError(
      `probs has ${p.probs.length} values; ${n} samples x ${p.numClasses} classes expected`,
    );
  }
  return n;
}

/** Index of the highest score of each row (first one on ties). */
export function argmaxRows(p: Predictions): Int32Array {
  const n = numSamples(p);
  const c = p.numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = p.probs[i * c];
    for (let j = 1; j < c; j++) {
      const v = p.probs[i * c + j];
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Fraction of samples whose predicted class equals the label. */
export function accuracy(labels: Numeric, predicted: Numeric): number {
  if (labels.length !== predicted.length) throw new RangeError('labels and predictions differ in length');
  if (labels.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) ok++;
  return ok / labels.length;
}

/**
 * Fraction of samples whose label is among the k highest scores. Ties are resolved in the label's
 * favour only as far as fewer than k other classes score strictly higher.
 */
export function topKAccuracy(p: Predictions, k: number): number {
  const n = numSamples(p);
  if (n === 0) return 0;
  const c = p.numClasses;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const y = p.labels[i];
    const sy = p.probs[i * c + y];
    let higher = 0;
    for (let j = 0; j < c; j++) if (p.probs[i * c + j] > sy) higher++;
    if (higher < k) ok++;
  }
  return ok / n;
}

/** Confusion matrix: `m[trueClass][predictedClass]` = count. */
export function confusionMatrix(labels: Numeric, predicted: Numeric, numClasses: number): number[][] {
  if (labels.length !== predicted.length) throw new RangeError('labels and predictions differ in length');
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const q = predicted[i];
    if (!(t >= 0 && t < numClasses && q >= 0 && q < numClasses)) {
      throw new RangeError(`sample ${i}: class out of range (label ${t}, predicted ${q})`);
    }
    m[t][q]++;
  }
  return m;
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of samples of this class. */
  support: number;
}

export interface AveragedMetrics {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationMetrics {
  perClass: ClassMetrics[];
  /** Unweighted mean over classes. */
  macro: AveragedMetrics;
  /** Mean over classes weighted by support. */
  weighted: AveragedMetrics;
  /** From global counts (equals accuracy for single-label classification). */
  micro: AveragedMetrics;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const f1Of = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** Per-class precision, recall, F1 and support from a confusion matrix, with averages. */
export function classificationMetrics(cm: number[][]): ClassificationMetrics {
  const c = cm.length;
  const perClass: ClassMetrics[] = [];
  let total = 0;
  let tpSum = 0;
  for (let k = 0; k < c; k++) {
    const tp = cm[k][k];
    let predicted = 0;
    let support = 0;
    for (let j = 0; j < c; j++) {
      predicted += cm[j][k];
      support += cm[k][j];
    }
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    perClass.push({ precision, recall, f1: f1Of(precision, recall), support });
    total += support;
    tpSum += tp;
  }
  const mean = (f: (m: ClassMetrics) => number) => (c ? perClass.reduce((a, m) => a + f(m), 0) / c : 0);
  const wmean = (f: (m: ClassMetrics) => number) =>
    ratio(
      perClass.reduce((a, m) => a + f(m) * m.support, 0),
      total,
    );
  const micro = ratio(tpSum, total);
  return {
    perClass,
    macro: { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) },
    weighted: {
      precision: wmean((m) => m.precision),
      recall: wmean((m) => m.recall),
      f1: wmean((m) => m.f1),
    },
    micro: { precision: micro, recall: micro, f1: micro },
  };
}

export interface PrPoint {
  /** Predict positive when score >= threshold. */
  threshold: number;
  precision: number;
  recall: number;
}

export interface PrCurve {
  /** One point per distinct score, thresholds decreasing (recall non-decreasing). */
  points: PrPoint[];
  /** Average precision: sum over points of (R_n - R_{n-1}) * P_n; null without positives. */
  averagePrecision: number | null;
  /** The threshold with the highest F1 (the highest such threshold on ties); null without positives. */
  best: (PrPoint & { f1: number }) | null;
  positives: number;
}

/** Precision-recall curve of binary `scores` against `positive` flags. */
export function precisionRecallCurve(scores: Numeric, positive: ArrayLike<boolean | number>): PrCurve {
  if (scores.length !== positive.length) throw new RangeError('scores and flags differ in length');
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) if (positive[i]) positives++;
  const points: PrPoint[] = [];
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  let best: (PrPoint & { f1: number }) | null = null;
  for (let i = 0; i < n; i++) {
    const idx = order[i];
    if (positive[idx]) tp++;
    else fp++;
    const last = i === n - 1 || scores[order[i + 1]] !== scores[idx];
    if (!last) continue;
    const precision = tp / (tp + fp);
    const recall = positives ? tp / positives : 0;
    const pt = { threshold: scores[idx], precision, recall };
    points.push(pt);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
    const f1 = f1Of(precision, recall);
    if (positives && (best === null || f1 > best.f1)) best = { ...pt, f1 };
  }
  return { points, averagePrecision: positives ? ap : null, best, positives };
}

/** One-vs-rest precision-recall curve of every class. */
export function perClassPrCurves(p: Predictions): PrCurve[] {
  const n = numSamples(p);
  const c = p.numClasses;
  const curves: PrCurve[] = [];
  const scores = new Float64Array(n);
  const flags = new Uint8Array(n);
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < n; i++) {
      scores[i] = p.probs[i * c + k];
      flags[i] = p.labels[i] === k ? 1 : 0;
    }
    curves.push(precisionRecallCurve(scores, flags));
  }
  return curves;
}

/** At most `max` points of a curve, evenly spread, keeping the first and last. */
export function downsampleCurve<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  if (max < 2) return points.slice(0, max);
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]);
  return out;
}

export interface CalibrationBin {
  /** Bin covers confidences in (lower, upper] (the first bin includes 0). */
  lower: number;
  upper: number;
  count: number;
  /** Mean top-class confidence in the bin (0 when empty). */
  confidence: number;
  /** Accuracy of the bin's samples (0 when empty). */
  accuracy: number;
}

export interface Calibration {
  /** Expected calibration error: sum over bins of (count / N) * |accuracy - confidence|. */
  ece: number;
  /** Maximum calibration error over non-empty bins. */
  mce: number;
  bins: CalibrationBin[];
}

/** Top-label calibration with `numBins` equal-width confidence bins (default 15). */
export function calibration(p: Predictions, numBins = 15): Calibration {
  if (!(Number.isInteger(numBins) && numBins > 0)) throw new RangeError('numBins must be a positive integer');
  const n = numSamples(p);
  const c = p.numClasses;
  const pred = argmaxRows(p);
  const count = new Array<number>(numBins).fill(0);
  const conf = new Array<number>(numBins).fill(0);
  const correct = new Array<number>(numBins).fill(0);
  for (let i = 0; i < n; i++) {
    const s = p.probs[i * c + pred[i]];
    const b = Math.min(numBins - 1, Math.max(0, Math.ceil(s * numBins) - 1));
    count[b]++;
    conf[b] += s;
    if (pred[i] === p.labels[i]) correct[b]++;
  }
  let ece = 0;
  let mce = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < numBins; b++) {
    const k = count[b];
    const confidence = k ? conf[b] / k : 0;
    const acc = k ? correct[b] / k : 0;
    if (k) {
      const gap = Math.abs(acc - confidence);
      ece += (k / n) * gap;
      mce = Math.max(mce, gap);
    }
    bins.push({ lower: b / numBins, upper: (b + 1) / numBins, count: k, confidence, accuracy: acc });
  }
  return { ece, mce, bins };
}

/** Mean negative log-likelihood of the true class (probabilities clipped to [1e-7, 1]). */
export function logLoss(p: Predictions): number {
  const n = numSamples(p);
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++)
    s -= Math.log(Math.min(1, Math.max(1e-7, p.probs[i * p.numClasses + p.labels[i]])));
  return s / n;
}
