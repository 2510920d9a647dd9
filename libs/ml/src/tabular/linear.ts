import { softmaxInto, type Matrix } from './gbdt';

/**
 * Linear baselines on standardized features: ridge regression (closed form) and multinomial
 * logistic regression (L-BFGS on the L2-penalized mean log loss). The L2 strength is chosen on
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
  /** L-BFGS iterations at most per strength (classification). */
  maxIterations?: number;
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
    const g = gram(z, target, train.rows, d);
    for (const l2 of p.l2Path ?? [0.01, 0.1, 1, 10, 100]) {
      const { w, b } = ridge(g, train.rows, d, l2);
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
  for (const l2 of p.l2Path ?? [1e-2, 1e-3, 1e-4]) {
    // Later strengths start from the previous solution.
    logisticFit(z, target, train.rows, d, K, l2, p.maxIterations ?? 200, W, B);
    const loss = logLoss(zv, valid.target, valid.m.rows, d, K, W, B);
    if (!best || loss < best.loss) {
      const weights = Array.from({ length: K }, (_, k) => Array.from(W.subarray(k * d, (k + 1) * d)));
      best = { model: { objective: 'classification', mean, scale, weights, bias: Array.from(B), l2 }, loss };
    }
  }
  return best!.model;
}

/** Z'Z and Z'(y - mean y) of the standardized training rows, computed once for every L2 strength. */
function gram(
  z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
): { A: Float64Array; r: Float64Array; ym: number } {
  let ym = 0;
  for (let i = 0; i < n; i++) ym += y[i];
  ym /= n;
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
  for (let a = 0; a < d; a++) for (let c = 0; c < a; c++) A[a * d + c] = A[c * d + a];
  return { A, r, ym };
}

/** (Z'Z + l2 n I) w = Z'(y - ym); Z is centred, so the bias is the target mean. */
function ridge(
  g: { A: Float64Array; r: Float64Array; ym: number },
  n: number,
  d: number,
  l2: number,
): { w: number[]; b: number } {
  const A = g.A.slice();
  for (let a = 0; a < d; a++) A[a * d + a] += l2 * n;
  return { w: Array.from(solveSpd(A, g.r, d)), b: g.ym };
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

/**
 * Mean log loss + (l2 / 2)·|W|² and its gradient at params = [W (K x d), B (K)], written into grad.
 */
function logisticLossGrad(
  z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  K: number,
  l2: number,
  params: Float64Array,
  grad: Float64Array,
  logits: Float64Array,
): number {
  grad.fill(0);
  const B = K * d;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let m = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = params[B + k];
      const wk = k * d;
      for (let f = 0; f < d; f++) s += params[wk + f] * z[row + f];
      logits[k] = s;
      if (s > m) m = s;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      logits[k] = Math.exp(logits[k] - m);
      sum += logits[k];
    }
    const yi = y[i];
    loss -= Math.log(Math.max(1e-300, logits[yi] / sum));
    for (let k = 0; k < K; k++) {
      const g = logits[k] / sum - (yi === k ? 1 : 0);
      grad[B + k] += g;
      const wk = k * d;
      for (let f = 0; f < d; f++) grad[wk + f] += g * z[row + f];
    }
  }
  let pen = 0;
  for (let j = 0; j < B + K; j++) grad[j] /= n;
  for (let j = 0; j < B; j++) {
    pen += params[j] * params[j];
    grad[j] += l2 * params[j];
  }
  return loss / n + 0.5 * l2 * pen;
}

/**
 * Minimizes the L2-penalized multinomial log loss by L-BFGS (10 pairs, backtracking Armijo line
 * search), starting from and writing into W, B; stops when the largest gradient entry is below
 * `gtol` or after `maxIter` iterations. Returns the iterations run.
 */
function logisticFit(
  z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  K: number,
  l2: number,
  maxIter: number,
  W: Float64Array,
  B: Float64Array,
  gtol = 1e-4,
): number {
  const P = K * d + K;
  const M = 10;
  const x = new Float64Array(P);
  x.set(W, 0);
  x.set(B, K * d);
  const g = new Float64Array(P);
  const xNew = new Float64Array(P);
  const gNew = new Float64Array(P);
  const dir = new Float64Array(P);
  const S = Array.from({ length: M }, () => new Float64Array(P));
  const Y = Array.from({ length: M }, () => new Float64Array(P));
  const rho = new Float64Array(M);
  const alpha = new Float64Array(M);
  const logits = new Float64Array(K);
  let f = logisticLossGrad(z, y, n, d, K, l2, x, g, logits);
  let stored = 0;
  let head = 0;
  let it = 0;
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let j = 0; j < P; j++) s += a[j] * b[j];
    return s;
  };
  const maxAbs = (a: Float64Array) => {
    let m = 0;
    for (let j = 0; j < P; j++) m = Math.max(m, Math.abs(a[j]));
    return m;
  };
  for (; it < maxIter && maxAbs(g) > gtol; it++) {
    // Two-loop recursion: dir = -H g.
    for (let j = 0; j < P; j++) dir[j] = -g[j];
    for (let c = 0; c < stored; c++) {
      const m = (head - 1 - c + M) % M;
      alpha[m] = rho[m] * dot(S[m], dir);
      for (let j = 0; j < P; j++) dir[j] -= alpha[m] * Y[m][j];
    }
    if (stored > 0) {
      const m = (head - 1 + M) % M;
      const gamma = 1 / (rho[m] * dot(Y[m], Y[m]));
      for (let j = 0; j < P; j++) dir[j] *= gamma;
    } else {
      const gn = Math.sqrt(dot(g, g));
      for (let j = 0; j < P; j++) dir[j] /= Math.max(1, gn);
    }
    for (let c = stored - 1; c >= 0; c--) {
      const m = (head - 1 - c + M) % M;
      const beta = rho[m] * dot(Y[m], dir);
      for (let j = 0; j < P; j++) dir[j] += (alpha[m] - beta) * S[m][j];
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0;
      for (let j = 0; j < P; j++) dir[j] = -g[j];
      slope = -dot(g, g);
    }
    let step = 1;
    let fNew = Infinity;
    for (let ls = 0; ls < 30; ls++) {
      for (let j = 0; j < P; j++) xNew[j] = x[j] + step * dir[j];
      fNew = logisticLossGrad(z, y, n, d, K, l2, xNew, gNew, logits);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew < f)) break;
    const s = S[head];
    const yy = Y[head];
    for (let j = 0; j < P; j++) {
      s[j] = xNew[j] - x[j];
      yy[j] = gNew[j] - g[j];
    }
    const sy = dot(s, yy);
    if (sy > 1e-12) {
      rho[head] = 1 / sy;
      head = (head + 1) % M;
      stored = Math.min(M, stored + 1);
    }
    x.set(xNew);
    g.set(gNew);
    const converged = f - fNew <= 1e-10 * Math.max(1, Math.abs(f));
    f = fNew;
    if (converged) {
      it++;
      break;
    }
  }
  W.set(x.subarray(0, K * d));
  B.set(x.subarray(K * d));
  return it;
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
