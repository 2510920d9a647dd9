import * as tf from '@tensorflow/tfjs';
import { minimizeLbfgs } from '../train/lbfgs';
import { loopTurns } from '../train/loop-turns';

/**
 * L2-regularized multinomial logistic regression on fixed feature vectors, fitted to convergence by
 * full-batch L-BFGS ({@link minimizeLbfgs}): minimizes mean cross-entropy + (l2 / 2) * ||W||^2 (the bias is not penalized).
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
  /**
   * Generalized cross-entropy (Zhang & Sabuncu 2018): with q in (0, 1] the loss of a row is
   * (1 - p(label)^q) / q instead of -log p(label), whose gradient is cross-entropy's weighted by
   * p(label)^q: rows the model finds unlikely (often wrong labels) pull less. Not convex; fitted from
   * the cross-entropy solution (or from zero weights, `gceFromZero`). Default 0: cross-entropy.
   */
  gce?: number;
  /** Fits the generalized cross-entropy from zero weights: one L-BFGS run instead of two. */
  gceFromZero?: boolean;
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
export async function fitLogistic(
  x: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  opts: LogisticOptions = {},
): Promise<LogisticModel> {
  const n = labels.length;
  if (n < 1 || x.length % n !== 0) throw new RangeError('features are not n rows of equal length');
  if (classes < 2) throw new RangeError('logistic regression needs at least 2 classes');
  const dim = x.length / n;
  const l2 = opts.l2 ?? 1e-2;
  const gce = opts.gce ?? 0;
  if (!(gce >= 0 && gce <= 1)) throw new RangeError('gce must be in [0, 1]');
  /** The loss the objective computes: 0 cross-entropy, else generalized cross-entropy's q. */
  let q = 0;
  const nw = dim * classes;
  const onehot = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < classes)) throw new RangeError(`label ${y} outside [0, ${classes})`);
    onehot[i * classes + y] = 1;
  }
  const X = tf.tensor2d(x, [n, dim]);
  const Y = tf.tensor2d(onehot, [n, classes]);
  // Objective at theta = [W (dim x classes), b (classes)]; its gradient is written into g.
  const objective = (theta: Float64Array, g: Float64Array): number => {
    const w = Float32Array.from(theta.subarray(0, nw));
    const b = Float32Array.from(theta.subarray(nw));
    const [lossT, gwT, gbT] = tf.tidy((): tf.Tensor[] => {
      const W = tf.tensor2d(w, [dim, classes]);
      const z = tf.add(tf.matMul(X, W), tf.tensor1d(b));
      const logp = tf.logSoftmax(z);
      if (q > 0) {
        // p(label)^q per row; loss mean((1 - p^q) / q); gradient wrt z: p^q (P - Y) / n.
        const pq = tf.exp(tf.mul(tf.sum(tf.mul(Y, logp), 1, true), q));
        const loss = tf.sum(tf.sub(1, pq)).div(n * q);
        const r = tf.mul(pq, tf.sub(tf.exp(logp), Y)).div(n);
        return [loss, tf.matMul(X, r, true, false), tf.sum(r, 0)];
      }
      const ce = tf.neg(tf.sum(tf.mul(Y, logp))).div(n);
      const r = tf.sub(tf.exp(logp), Y).div(n);
      return [ce, tf.matMul(X, r, true, false), tf.sum(r, 0)];
    });
    const ce = (lossT.dataSync() as Float32Array)[0];
    const gw = gwT.dataSync() as Float32Array;
    const gb = gbT.dataSync() as Float32Array;
    tf.dispose([lossT, gwT, gbT]);
    let reg = 0;
    for (let j = 0; j < nw; j++) {
      reg += theta[j] * theta[j];
      g[j] = gw[j] + l2 * theta[j];
    }
    for (let c = 0; c < classes; c++) g[nw + c] = gb[c];
    return ce + (l2 / 2) * reg;
  };
  // A fit runs seconds of synchronous kernels; the event loop gets turns (loopTurns) so the
  // worker's cancel poll, lock renewal and database calls are not held for the whole fit.
  const turn = loopTurns();
  const lbfgs = {
    memory: opts.memory ?? 10,
    maxIterations: Math.max(1, Math.floor(opts.maxIterations ?? 200)),
    gradientTolerance: opts.tolerance ?? 1e-5,
    functionTolerance: 1e-10,
    onIteration: turn,
  };
  try {
    // Generalized cross-entropy starts from the cross-entropy solution unless `gceFromZero`.
    const fromCrossEntropy = gce > 0 && !opts.gceFromZero;
    q = fromCrossEntropy ? 0 : gce;
    let result = await minimizeLbfgs(objective, new Float64Array(nw + classes), lbfgs);
    if (fromCrossEntropy) {
      q = gce;
      result = await minimizeLbfgs(objective, result.x, lbfgs);
    }
    return {
      dim,
      classes,
      weights: Float32Array.from(result.x.subarray(0, nw)),
      bias: Float32Array.from(result.x.subarray(nw)),
      iterations: result.iterations,
      loss: result.f,
    };
  } finally {
    tf.dispose([X, Y]);
  }
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
