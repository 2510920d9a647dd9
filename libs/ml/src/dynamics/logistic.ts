import * as tf from '@tensorflow/tfjs';

/**
 * L2-regularized multinomial logistic regression on fixed feature vectors, fitted to convergence by
 * full-batch L-BFGS: minimizes mean cross-entropy + (l2 / 2) * ||W||^2 (the bias is not penalized).
 * The objective is strictly convex, so the result depends on neither an initialisation nor a batch
 * order: no seed. The two matrix products of each iteration (X W and X^T (P - Y)) run on the tfjs
 * backend; the L-BFGS bookkeeping (dim x classes values) in plain float64.
 */
export interface LogisticOptions {
  /** Weight of the L2 penalty (default 1e-2; larger = simpler model). */
  l2?: number;
  /** Most L-BFGS iterations (default 200). */
  maxIterations?: number;
  /** Stop when the gradient's largest absolute entry falls below this (default 1e-5). */
  tolerance?: number;
  /** Curvature pairs kept (default 10). */
  memory?: number;
}

export interface LogisticModel {
  dim: number;
  classes: number;
  /** dim x classes, row-major. */
  weights: Float32Array;
  bias: Float32Array;
  /** Iterations run and the final objective. */
  iterations: number;
  loss: number;
}

/** Fits the model on the `n` rows of `x` (n x dim, row-major) with `labels` in [0, classes). */
export function fitLogistic(
  x: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  opts: LogisticOptions = {},
): LogisticModel {
  const n = labels.length;
  if (n < 1 || x.length % n !== 0) throw new RangeError('features are not n rows of equal length');
  if (classes < 2) throw new RangeError('logistic regression needs at least 2 classes');
  const dim = x.length / n;
  const l2 = opts.l2 ?? 1e-2;
  const maxIt = Math.max(1, Math.floor(opts.maxIterations ?? 200));
  const tol = opts.tolerance ?? 1e-5;
  const mem = Math.max(1, Math.floor(opts.memory ?? 10));
  const size = dim * classes + classes;
  const onehot = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < classes)) throw new RangeError(`label ${y} outside [0, ${classes})`);
    onehot[i * classes + y] = 1;
  }
  const X = tf.tensor2d(x, [n, dim]);
  const Y = tf.tensor2d(onehot, [n, classes]);
  // Objective and gradient at theta = [W (dim x classes), b (classes)].
  const evaluate = (theta: Float64Array): { f: number; g: Float64Array } => {
    const w = Float32Array.from(theta.subarray(0, dim * classes));
    const b = Float32Array.from(theta.subarray(dim * classes));
    const [lossT, gwT, gbT] = tf.tidy((): tf.Tensor[] => {
      const W = tf.tensor2d(w, [dim, classes]);
      const z = tf.add(tf.matMul(X, W), tf.tensor1d(b));
      const logp = tf.logSoftmax(z);
      const ce = tf.neg(tf.sum(tf.mul(Y, logp))).div(n);
      const r = tf.sub(tf.exp(logp), Y).div(n);
      return [ce, tf.matMul(X, r, true, false), tf.sum(r, 0)];
    });
    const ce = (lossT.dataSync() as Float32Array)[0];
    const gw = gwT.dataSync() as Float32Array;
    const gb = gbT.dataSync() as Float32Array;
    tf.dispose([lossT, gwT, gbT]);
    let reg = 0;
    const g = new Float64Array(size);
    for (let j = 0; j < dim * classes; j++) {
      reg += theta[j] * theta[j];
      g[j] = gw[j] + l2 * theta[j];
    }
    for (let c = 0; c < classes; c++) g[dim * classes + c] = gb[c];
    return { f: ce + (l2 / 2) * reg, g };
  };
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  };
  const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let theta = new Float64Array(size);
  let { f, g } = evaluate(theta);
  const S: Float64Array[] = [];
  const Yk: Float64Array[] = [];
  let it = 0;
  try {
    for (; it < maxIt && maxAbs(g) > tol; it++) {
      // Two-loop recursion: d = -H g.
      const q = Float64Array.from(g);
      const alpha: number[] = [];
      for (let k = S.length - 1; k >= 0; k--) {
        const a = dot(S[k], q) / dot(Yk[k], S[k]);
        alpha[k] = a;
        for (let i = 0; i < size; i++) q[i] -= a * Yk[k][i];
      }
      const gamma = S.length
        ? dot(S[S.length - 1], Yk[S.length - 1]) / dot(Yk[S.length - 1], Yk[S.length - 1])
        : 1 / Math.max(1, maxAbs(g));
      for (let i = 0; i < size; i++) q[i] *= gamma;
      for (let k = 0; k < S.length; k++) {
        const beta = dot(Yk[k], q) / dot(Yk[k], S[k]);
        for (let i = 0; i < size; i++) q[i] += S[k][i] * (alpha[k] - beta);
      }
      let d = q.map((v) => -v);
      let slope = dot(g, d);
      if (!(slope < 0)) {
        // Not a descent direction: restart from steepest descent.
        S.length = 0;
        Yk.length = 0;
        d = g.map((v) => -v / Math.max(1, maxAbs(g)));
        slope = dot(g, d);
      }
      // Backtracking (Armijo) line search from the full step.
      let step = 1;
      let next = theta;
      let res = { f, g };
      for (let ls = 0; ls < 30; ls++) {
        next = theta.map((v, i) => v + step * d[i]);
        res = evaluate(next);
        if (res.f <= f + 1e-4 * step * slope) break;
        step /= 2;
      }
      if (!(res.f <= f)) break;
      const s = next.map((v, i) => v - theta[i]);
      const yv = res.g.map((v, i) => v - g[i]);
      if (dot(s, yv) > 1e-12) {
        S.push(s);
        Yk.push(yv);
        if (S.length > mem) {
          S.shift();
          Yk.shift();
        }
      }
      const done = Math.abs(f - res.f) <= 1e-10 * Math.max(1, Math.abs(f));
      theta = next;
      f = res.f;
      g = res.g;
      if (done) {
        it++;
        break;
      }
    }
  } finally {
    tf.dispose([X, Y]);
  }
  return {
    dim,
    classes,
    weights: Float32Array.from(theta.subarray(0, dim * classes)),
    bias: Float32Array.from(theta.subarray(dim * classes)),
    iterations: it,
    loss: f,
  };
}

/** Class probabilities (rows x classes, row-major) of the rows of `x` under `model`. */
export function predictLogistic(model: LogisticModel, x: Float32Array): Float32Array {
  const rows = x.length / model.dim;
  return tf.tidy(
    () =>
      tf
        .softmax(
          tf.add(
            tf.matMul(
              tf.tensor2d(x, [rows, model.dim]),
              tf.tensor2d(model.weights, [model.dim, model.classes]),
            ),
            tf.tensor1d(model.bias),
          ),
        )
        .dataSync() as Float32Array,
  );
}
