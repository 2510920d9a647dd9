import { minimizeLbfgs, type LbfgsOptions, type LbfgsResult } from '../train/lbfgs';
import type { SparseVector } from './features';

/**
 * Multinomial logistic regression (softmax) over sparse vectors: weights [features x classes] plus a
 * bias per class. Trained by per-sample SGD with AdaGrad step sizes (only the rows a sample touches
 * are updated, so an epoch costs O(non-zeros x classes)), per-class loss weights for imbalanced data,
 * and L2 regularization applied lazily to the touched rows.
 */
export class LinearSoftmax {
  readonly weights: Float32Array;
  readonly bias: Float32Array;

  constructor(
    readonly numFeatures: number,
    readonly numClasses: number,
    weights?: Float32Array,
    bias?: Float32Array,
  ) {
    this.weights = weights ?? new Float32Array(numFeatures * numClasses);
    this.bias = bias ?? new Float32Array(numClasses);
    if (this.weights.length !== numFeatures * numClasses)
      throw new RangeError(`${this.weights.length} weights for ${numFeatures} x ${numClasses}`);
    if (this.bias.length !== numClasses) throw new RangeError(`${this.bias.length} biases for ${numClasses}`);
  }

  /** Class probabilities of one vector, written into `out` (length numClasses). */
  predictInto(x: SparseVector, out: Float32Array): Float32Array {
    const k = this.numClasses;
    const w = this.weights;
    out.set(this.bias);
    for (let i = 0; i < x.indices.length; i++) {
      const row = x.indices[i] * k;
      const v = x.values[i];
      for (let c = 0; c < k; c++) out[c] += w[row + c] * v;
    }
    softmaxInPlace(out);
    return out;
  }

  predict(x: SparseVector): Float32Array {
    return this.predictInto(x, new Float32Array(this.numClasses));
  }
}

export function softmaxInPlace(z: Float32Array): void {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    const e = Math.exp(z[c] - max);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < z.length; c++) z[c] /= sum;
}

export interface SgdOptions {
  /** AdaGrad base step size (default 0.5). */
  learningRate?: number;
  /** L2 strength per sample (default 1e-6). */
  l2?: number;
  /** Loss weight per class (default 1 each). */
  classWeights?: Float32Array;
}

/**
 * Per-sample AdaGrad SGD on a {@link LinearSoftmax}; call `epoch` repeatedly. The AdaGrad accumulator
 * is kept per feature row (the squared gradient summed over classes), not per weight: one square
 * root per non-zero feature instead of one per weight, and a row of memory per feature.
 */
export class SoftmaxSgd {
  private readonly g2w: Float64Array;
  private readonly g2b: Float64Array;
  private readonly probs: Float32Array;
  private readonly grad: Float64Array;
  private readonly lr: number;
  private readonly l2: number;

  constructor(
    readonly model: LinearSoftmax,
    private readonly options: SgdOptions = {},
  ) {
    this.g2w = new Float64Array(model.numFeatures);
    this.g2b = new Float64Array(model.numClasses);
    this.probs = new Float32Array(model.numClasses);
    this.grad = new Float64Array(model.numClasses);
    this.lr = options.learningRate ?? 0.5;
    this.l2 = options.l2 ?? 1e-6;
  }

  /** One pass over the samples in `order`; returns the mean weighted loss. */
  epoch(xs: readonly SparseVector[], ys: ArrayLike<number>, order: ArrayLike<number>): number {
    const { model, g2w, g2b, probs, grad, lr, l2 } = this;
    const k = model.numClasses;
    const w = model.weights;
    const b = model.bias;
    const cw = this.options.classWeights;
    const eps = 1e-8;
    let loss = 0;
    for (let o = 0; o < order.length; o++) {
      const n = order[o];
      const x = xs[n];
      const y = ys[n];
      model.predictInto(x, probs);
      const sw = cw ? cw[y] : 1;
      loss -= sw * Math.log(Math.max(probs[y], 1e-12));
      let gsq = 0;
      for (let c = 0; c < k; c++) {
        const g = sw * (probs[c] - (c === y ? 1 : 0));
        grad[c] = g;
        gsq += g * g;
        g2b[c] += g * g;
        b[c] -= (lr * g) / Math.sqrt(g2b[c] + eps);
      }
      for (let i = 0; i < x.indices.length; i++) {
        const f = x.indices[i];
        const row = f * k;
        const v = x.values[i];
        g2w[f] += gsq * v * v;
        const step = lr / Math.sqrt(g2w[f] + eps);
        const sv = step * v;
        const decay = 1 - step * l2;
        for (let c = 0; c < k; c++) w[row + c] = w[row + c] * decay - sv * grad[c];
      }
    }
    return loss / Math.max(1, order.length);
  }
}

/** "Balanced" class weights (scikit-learn's): n / (classes x count of the class), 0 for absent classes. */
export function balancedClassWeights(ys: ArrayLike<number>, numClasses: number): Float32Array {
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < ys.length; i++) counts[ys[i]] += 1;
  const out = new Float32Array(numClasses);
  for (let c = 0; c < numClasses; c++) out[c] = counts[c] > 0 ? ys.length / (numClasses * counts[c]) : 0;
  return out;
}

export interface SoftmaxLbfgsOptions {
  /**
   * L2 strength: the objective is the mean weighted cross-entropy + l2 / 2 x ||weights||^2 (biases
   * not penalized); scikit-learn's LogisticRegression(C) is l2 = 1 / (C x samples).
   */
  l2: number;
  classWeights?: Float32Array;
  /** Most L-BFGS iterations (default 300). */
  maxIterations?: number;
  /** Stop when max |gradient| <= this (default 1e-4, scikit-learn's `tol`). */
  gradientTolerance?: number;
  /** Stop when an iteration lowers the objective by at most this, relatively (default 1e-9). */
  functionTolerance?: number;
  /** Warm start: parameters from an earlier fit of the same shape (weights then biases), copied. */
  init?: Float64Array;
  onIteration?: LbfgsOptions['onIteration'];
}

export interface SoftmaxLbfgsResult {
  /** The parameters in double precision (weights then biases), for a warm start. */
  params: Float64Array;
  iterations: number;
  evaluations: number;
  stop: LbfgsResult['stop'];
  loss: number;
}

/**
 * Fits a {@link LinearSoftmax} by full-batch L-BFGS on the L2-regularized mean weighted
 * cross-entropy (the problem scikit-learn's LogisticRegression solves with lbfgs); writes the result
 * into the model's float32 weights. One objective evaluation costs O(non-zeros x classes).
 */
export async function fitSoftmaxLbfgs(
  model: LinearSoftmax,
  xs: readonly SparseVector[],
  ys: ArrayLike<number>,
  options: SoftmaxLbfgsOptions,
): Promise<SoftmaxLbfgsResult> {
  const k = model.numClasses;
  const nw = model.numFeatures * k;
  const cw = options.classWeights;
  const l2 = options.l2;
  const n = Math.max(1, xs.length);
  const params = new Float64Array(nw + k);
  if (options.init) {
    if (options.init.length !== params.length) throw new RangeError('warm start of another shape');
    params.set(options.init);
  }
  const z = new Float64Array(k);
  const objective = (p: Float64Array, g: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < nw; i++) {
      g[i] = l2 * p[i];
      loss += p[i] * p[i];
    }
    loss *= l2 / 2;
    g.fill(0, nw);
    let ce = 0;
    for (let s = 0; s < xs.length; s++) {
      const x = xs[s];
      const y = ys[s];
      for (let c = 0; c < k; c++) z[c] = p[nw + c];
      for (let j = 0; j < x.indices.length; j++) {
        const row = x.indices[j] * k;
        const v = x.values[j];
        for (let c = 0; c < k; c++) z[c] += p[row + c] * v;
      }
      let max = -Infinity;
      for (let c = 0; c < k; c++) if (z[c] > max) max = z[c];
      const zy = z[y] - max;
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(z[c] - max);
        z[c] = e;
        sum += e;
      }
      const sw = (cw ? cw[y] : 1) / n;
      ce -= sw * (zy - Math.log(sum));
      // z becomes the loss gradient wrt the logits: sw x (p - onehot).
      for (let c = 0; c < k; c++) z[c] = sw * (z[c] / sum - (c === y ? 1 : 0));
      for (let c = 0; c < k; c++) g[nw + c] += z[c];
      for (let j = 0; j < x.indices.length; j++) {
        const row = x.indices[j] * k;
        const v = x.values[j];
        for (let c = 0; c < k; c++) g[row + c] += z[c] * v;
      }
    }
    return loss + ce;
  };
  const result = await minimizeLbfgs(objective, params, {
    maxIterations: options.maxIterations ?? 300,
    gradientTolerance: options.gradientTolerance ?? 1e-4,
    functionTolerance: options.functionTolerance,
    onIteration: options.onIteration,
  });
  for (let i = 0; i < nw; i++) model.weights[i] = params[i];
  for (let c = 0; c < k; c++) model.bias[c] = params[nw + c];
  return {
    params,
    iterations: result.iterations,
    evaluations: result.evaluations,
    stop: result.stop,
    loss: result.f,
  };
}
