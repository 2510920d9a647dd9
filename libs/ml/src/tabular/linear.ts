import { softmaxInto, type Matrix } from './gbdt';

/**
 * Linear baselines on standardized features: ridge regression (closed form) and multinomial
 * logistic regression (full-batch Adam on the L2-penalized log loss). The L2 strength is chosen on
 * the validation set from a small path (strong to weak, each fit warm-started from the last).
 */
export interface LinearModel {
  objective: 'regression' | 'classification';
  /** Per feature: subtract mean, divide by scale. */
  mean: number[];
  scale: number[];
  /** weights[output][feature]. */
  weights: number[][];
  bias: number[];
  l2: number;
}

export interface LinearParams {
  objective: 'regression' | 'classification';
  numClasses?: number;
  /** L2 strengths tried (default per objective). */
  l2Path?: number[];
  /** Adam steps for the first strength (classification; half as many for each warm-started next one). */
  steps?: number;
}

function standardizer(m: Matrix): { mean: number[]; scale: number[] } {
  const { rows: n, features: d, x } = m;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++)
    for (let f = 0; f < d; f++) {
      const v = x[i * d + f];
      mean[f] += v;
      sq[f] += v * v;
    }
  const scale = mean.map((s, f) => {
    const mu = s / n;
    const sd = Math.sqrt(Math.max(0, sq[f] / n - mu * mu));
    return sd > 1e-12 ? sd : 1;
  });
  return { mean: mean.map((s) => s / n), scale };
}

function standardize(m: Matrix, mean: number[], scale: number[]): Float64Array {
  const { rows: n, features: d, x } = m;
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) z[i * d + f] = (x[i * d + f] - mean[f]) / scale[f];
  return z;
}

/** Trains on `train`, picking the L2 strength with the lowest validation loss. */
export function trainLinear(
  train: Matrix,
  target: ArrayLike<number>,
  p: LinearParams,
  valid: { m: Matrix; target: ArrayLike<number> },
): LinearModel {
  const { mean, scale } = standardizer(train);
  const z = standardize(train, mean, scale);
  const zv = standardize(valid.m, mean, scale);
  const d = train.features;
  let best: { model: LinearModel; loss: number } | null = null;
  if (p.objective === 'regression') {
    for (const l2 of p.l2Path ?? [0.01, 0.1, 1, 10, 100]) {
      const { w, b } = ridge(z, target, train.rows, d, l2);
      const model: LinearModel = { objective: 'regression', mean, scale, weights: [w], bias: [b], l2 };
      const pred = linearScores(model, valid.m);
      let loss = 0;
      for (let i = 0; i < valid.m.rows; i++) loss += (pred[i] - valid.target[i]) ** 2;
      if (!best || loss < best.loss) best = { model, loss };
    }
    return best!.model;
  }
  const K = p.numClasses ?? 2;
  const W = new Float64Array(K * d);
  const B = new Float64Array(K);
  let first = true;
  for (const l2 of p.l2Path ?? [1e-2, 1e-3, 1e-4]) {
    // Later strengths start from the previous solution and need fewer steps.
    const steps = p.steps ?? 120;
    logisticFit(z, target, train.rows, d, K, l2, first ? steps : Math.ceil(steps / 2), W, B);
    first = false;
    const loss = logLoss(zv, valid.target, valid.m.rows, d, K, W, B);
    if (!best || loss < best.loss) {
      const weights = Array.from({ length: K }, (_, k) => Array.from(W.subarray(k * d, (k + 1) * d)));
      best = { model: { objective: 'classification', mean, scale, weights, bias: Array.from(B), l2 }, loss };
    }
  }
  return best!.model;
}

function ridge(
  z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  l2: number,
): { w: number[]; b: number } {
  let ym = 0;
  for (let i = 0; i < n; i++) ym += y[i];
  ym /= n;
  // (Z'Z + l2 n I) w = Z'(y - ym); Z is centred, so the bias is the target mean.
  const A = new Float64Array(d * d);
  const r = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    const yi = y[i] - ym;
    for (let a = 0; a < d; a++) {
      const za = z[row + a];
      r[a] += za * yi;
      for (let c = a; c < d; c++) A[a * d + c] += za * z[row + c];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let c = 0; c < a; c++) A[a * d + c] = A[c * d + a];
    A[a * d + a] += l2 * n;
  }
  return { w: Array.from(solveSpd(A, r, d)), b: ym };
}

/** Solves A x = r for symmetric positive definite A (Cholesky; a tiny jitter keeps it definite). */
function solveSpd(A: Float64Array, r: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j];
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      if (i === j) L[i * d + i] = Math.sqrt(Math.max(s, 1e-10));
      else L[i * d + j] = s / L[j * d + j];
    }
  }
  const yv = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= L[i * d + k] * yv[k];
    yv[i] = s / L[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = yv[i];
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k];
    x[i] = s / L[i * d + i];
  }
  return x;
}

function logisticFit(
  z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  K: number,
  l2: number,
  steps: number,
  W: Float64Array,
  B: Float64Array,
): void {
  const gW = new Float64Array(K * d);
  const gB = new Float64Array(K);
  const mW = new Float64Array(K * d);
  const vW = new Float64Array(K * d);
  const mB = new Float64Array(K);
  const vB = new Float64Array(K);
  const logits = new Float64Array(K);
  const p = new Float64Array(K);
  const lr = 0.05;
  const b1 = 0.9;
  const b2 = 0.999;
  for (let t = 1; t <= steps; t++) {
    gW.fill(0);
    gB.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * d;
      for (let k = 0; k < K; k++) {
        let s = B[k];
        const wk = k * d;
        for (let f = 0; f < d; f++) s += W[wk + f] * z[row + f];
        logits[k] = s;
      }
      softmaxInto(logits, 0, K, p);
      for (let k = 0; k < K; k++) {
        const g = p[k] - (y[i] === k ? 1 : 0);
        if (g === 0) continue;
        gB[k] += g;
        const wk = k * d;
        for (let f = 0; f < d; f++) gW[wk + f] += g * z[row + f];
      }
    }
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    for (let j = 0; j < K * d; j++) {
      const g = gW[j] / n + l2 * W[j];
      mW[j] = b1 * mW[j] + (1 - b1) * g;
      vW[j] = b2 * vW[j] + (1 - b2) * g * g;
      W[j] -= (lr * (mW[j] / c1)) / (Math.sqrt(vW[j] / c2) + 1e-8);
    }
    for (let k = 0; k < K; k++) {
      const g = gB[k] / n;
      mB[k] = b1 * mB[k] + (1 - b1) * g;
      vB[k] = b2 * vB[k] + (1 - b2) * g * g;
      B[k] -= (lr * (mB[k] / c1)) / (Math.sqrt(vB[k] / c2) + 1e-8);
    }
  }
}

function logLoss(
  z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  K: number,
  W: Float64Array,
  B: Float64Array,
): number {
  const logits = new Float64Array(K);
  const p = new Float64Array(K);
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let v = B[k];
      for (let f = 0; f < d; f++) v += W[k * d + f] * z[i * d + f];
      logits[k] = v;
    }
    softmaxInto(logits, 0, K, p);
    s -= Math.log(Math.max(1e-15, p[y[i]]));
  }
  return s / Math.max(1, n);
}

/** Raw scores [rows x outputs] on unstandardized features. */
export function linearScores(model: LinearModel, m: Matrix): Float64Array {
  const K = model.weights.length;
  const d = m.features;
  const out = new Float64Array(m.rows * K);
  for (let i = 0; i < m.rows; i++)
    for (let k = 0; k < K; k++) {
      let s = model.bias[k];
      const w = model.weights[k];
      for (let f = 0; f < d; f++) s += (w[f] * (m.x[i * d + f] - model.mean[f])) / model.scale[f];
      out[i * K + k] = s;
    }
  return out;
}

/** Regression values [rows] or class probabilities [rows x classes]. */
export function linearPredict(model: LinearModel, m: Matrix): Float64Array {
  const raw = linearScores(model, m);
  if (model.objective === 'regression') return raw;
  const K = model.weights.length;
  const out = new Float64Array(m.rows * K);
  const p = new Float64Array(K);
  for (let i = 0; i < m.rows; i++) {
    softmaxInto(raw, i * K, K, p);
    out.set(p, i * K);
  }
  return out;
}
