import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { TrainConfigError } from './errors';
import { isNoDecayWeight } from './layers';
import { mixSeed } from './rng';

type LayerVariable = tf.LayerVariable;

/**
 * A penalty on the weights added to the training loss, given to {@link train} as
 * `TrainOptions.regularizer`. Each step hands it the trainable weights and the loss gradients
 * (after micro-batch accumulation, before clipping); it returns the gradients to apply.
 */
export interface WeightRegularizer {
  /** The penalty's value at the current weights (for logs and specs; the step uses `gradients`). */
  penalty(weights: LayerVariable[]): tf.Scalar;
  /** Loss gradients plus the penalty's gradients, `null` kept where a weight has no gradient. */
  gradients(weights: LayerVariable[], lossGrads: Array<tf.Tensor | null>): Array<tf.Tensor | null>;
  /** Frees the tensors it holds (the starting point). */
  dispose(): void;
  /**
   * A penalty on activations (BSS): replaces the step's forward pass, returning the model's output
   * and a term added to the training loss (differentiated with it).
   */
  forward?(xs: tf.Tensor): { output: tf.Tensor; penalty: tf.Scalar };
  /**
   * Called before the first step of every epoch (also when a resumed run starts at step 0 of an
   * epoch), with the run's seed and epoch count (RIFLE). Must be a function of these only, so a
   * resumed run does what an uninterrupted one did.
   */
  onEpochStart?(epoch: number, run: { seed: number; epochs: number }): void;
}

export interface L2SPOptions {
  /** Pretrained weights pulled toward their values at construction (w0). */
  backbone: LayerVariable[];
  /** New weights decayed toward 0 (biases and normalisation parameters excluded). */
  head: LayerVariable[];
  /** Strength toward w0. Li et al. 2018 default 0.1. */
  alpha?: number;
  /** Strength of the head's L2. Li et al. 2018 default 0.01. */
  beta?: number;
  /**
   * Wan et al. 2019: per weight tensor, drop the part of the penalty's gradient that opposes the
   * loss gradient (if <g_reg, g_loss> < 0, g_reg -= <g_reg, g_loss> / ||g_loss||^2 * g_loss).
   */
  conflictRule?: boolean;
}

/** Li et al. (ICML 2018) defaults. */
export const L2SP_DEFAULTS = { alpha: 0.1, beta: 0.01 } as const;

/**
 * L2-SP (Li, Grandvalet, Davoine, ICML 2018): alpha/2 * ||w_backbone - w0||^2 + beta/2 * ||w_head||^2,
 * where w0 is a copy of the backbone's weights taken now (build it before training starts, from the
 * pretrained weights). Weights neither in `backbone` nor in `head` are not penalised.
 */
export function l2sp(o: L2SPOptions): WeightRegularizer {
  const alpha = o.alpha ?? L2SP_DEFAULTS.alpha;
  const beta = o.beta ?? L2SP_DEFAULTS.beta;
  if (!(alpha >= 0) || !(beta >= 0)) throw new TrainConfigError('l2sp: alpha and beta must be >= 0');
  const start = new Map<number, tf.Tensor>(o.backbone.map((w) => [w.id, tf.clone(w.read())]));
  const head = new Set(o.head.filter((w) => !isNoDecayWeight(w)).map((w) => w.id));
  /** The penalty's gradient for `w`, or null when it is not penalised. */
  const gradOf = (w: LayerVariable): tf.Tensor | null => {
    const w0 = start.get(w.id);
    if (w0) return tf.mul(tf.sub(w.read(), w0), alpha);
    if (head.has(w.id)) return tf.mul(w.read(), beta);
    return null;
  };
  return {
    penalty: (weights) =>
      tf.tidy(() => {
        const terms: tf.Scalar[] = [];
        for (const w of weights) {
          const w0 = start.get(w.id);
          if (w0) terms.push(tf.mul(tf.sum(tf.square(tf.sub(w.read(), w0))), alpha / 2));
          else if (head.has(w.id)) terms.push(tf.mul(tf.sum(tf.square(w.read())), beta / 2));
        }
        return terms.length > 0 ? tf.addN<tf.Scalar>(terms) : tf.scalar(0);
      }),
    gradients: (weights, lossGrads) =>
      weights.map((w, i) => {
        const g = lossGrads[i] ?? null;
        const r = gradOf(w);
        if (!r) return g;
        if (!g) return r;
        return o.conflictRule ? tf.add(g, withoutConflict(r, g)) : tf.add(g, r);
      }),
    dispose: () => start.forEach((t) => t.dispose()),
  };
}

/**
 * Wan et al. (2019), "Towards making deep transfer learning never hurt": `reg` without its component
 * along `loss` when the two point against each other (<reg, loss> < 0); `reg` itself otherwise.
 */
export function withoutConflict(reg: tf.Tensor, loss: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(reg, loss));
    const norm2 = tf.sum(tf.square(loss));
    const coef = tf.where(
      tf.logicalAnd(tf.less(dot, 0), tf.greater(norm2, 0)),
      tf.div(dot, tf.maximum(norm2, 1e-30)),
      tf.zerosLike(dot),
    );
    return tf.sub(reg, tf.mul(coef, loss));
  });
}

const passThrough = {
  penalty: () => tf.scalar(0),
  gradients: (_w: LayerVariable[], lossGrads: Array<tf.Tensor | null>) => lossGrads,
};

export interface BSSOptions {
  /** The model being trained. */
  model: tf.LayersModel;
  /** A symbolic tensor of `model`'s graph: the features [batch, dim] fed to the classifier. */
  features: tf.SymbolicTensor;
  /** Penalty weight. Chen et al. 2019 default 0.001. */
  eta?: number;
  /** How many of the smallest singular values are shrunk. Chen et al. 2019 default 1. */
  k?: number;
}

/** Chen, Wang, Fu, Long, Wang (NeurIPS 2019) defaults. */
export const BSS_DEFAULTS = { eta: 0.001, k: 1 } as const;

/**
 * The k smallest squared singular values of F ([n, d]) as a differentiable scalar sum: the
 * eigenvectors U of the smaller Gram matrix (F F^T or F^T F, computed in float64 by ml-matrix) are
 * taken as constants and sum_i ||F^T u_i||^2 (or ||F u_i||^2) is returned, whose value is the sum of
 * the k smallest eigenvalues and whose gradient is that of the eigenvalues (d lambda = u^T dG u).
 */
export function smallestSquaredSingularValues(f: tf.Tensor2D, k: number): tf.Scalar {
  const [n, d] = f.shape;
  const rowsGram = n <= d;
  const m = Math.min(n, d);
  const kk = Math.max(0, Math.min(k, m));
  if (kk === 0) return tf.scalar(0);
  const gram = tf.tidy(() => (rowsGram ? tf.matMul(f, f, false, true) : tf.matMul(f, f, true, false)));
  const g = gram.dataSync();
  gram.dispose();
  const rows = Array.from({ length: m }, (_, i) => Array.from(g.subarray(i * m, (i + 1) * m)));
  // Symmetrize against float32 rounding; eigenvalues come out ascending.
  const sym = new Matrix(rows).add(new Matrix(rows).transpose()).div(2);
  const evd = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const vecs = evd.eigenvectorMatrix;
  const u: number[] = [];
  for (let r = 0; r < m; r++) for (let c = 0; c < kk; c++) u.push(vecs.get(r, c));
  return tf.tidy(() => {
    const uT = tf.tensor2d(u, [m, kk]);
    const proj = rowsGram ? tf.matMul(f, uT, true, false) : tf.matMul(f, uT);
    return tf.sum<tf.Scalar>(tf.square(proj));
  });
}

/**
 * Batch Spectral Shrinkage (Chen et al., NeurIPS 2019, "Catastrophic forgetting meets negative
 * transfer"): eta * sum of the k smallest squared singular values of the batch's feature matrix,
 * added to the loss, so that the feature directions the small target set cannot estimate (the
 * pretrained knowledge that would transfer negatively) are suppressed. Weights are not penalised.
 */
export function bss(o: BSSOptions): WeightRegularizer {
  const eta = o.eta ?? BSS_DEFAULTS.eta;
  const k = o.k ?? BSS_DEFAULTS.k;
  if (!(eta >= 0)) throw new TrainConfigError('bss: eta must be >= 0');
  if (!Number.isInteger(k) || k < 1) throw new TrainConfigError('bss: k must be an integer >= 1');
  const both = tf.model({ inputs: o.model.inputs, outputs: [o.features, ...o.model.outputs] });
  return {
    ...passThrough,
    forward: (xs) => {
      const [features, output] = both.apply(xs, { training: true }) as tf.Tensor[];
      const n = features.shape[0] ?? 0;
      const flat = tf.reshape<tf.Rank.R2>(features, [n, features.size / Math.max(1, n)]);
      return { output, penalty: tf.mul(smallestSquaredSingularValues(flat, k), eta) };
    },
    dispose: () => undefined,
  };
}

export interface RIFLEOptions {
  /** The new head's layers: their weights are re-initialized (kernels Glorot-uniform, biases 0). */
  head: tf.layers.Layer[];
  /** Re-initializations over a run (Li et al. 2020 default 3; their README tries 2 to 4). */
  times?: number;
  /** Re-initialize only while this is true (e.g. only when the backbone trains). Default always. */
  when?: () => boolean;
}

export const RIFLE_DEFAULTS = { times: 3 } as const;

/**
 * The epochs at whose start RIFLE re-initializes: `times` evenly spaced cuts of the run
 * (round(j * epochs / (times + 1)), j = 1..times), never epoch 0, deduplicated.
 */
export function rifleEpochs(epochs: number, times: number): number[] {
  const out = new Set<number>();
  for (let j = 1; j <= times; j++) {
    const e = Math.round((j * epochs) / (times + 1));
    if (e > 0 && e < epochs) out.add(e);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * RIFLE (Li, Xiong, An, Xu, Dou, ICML 2020): re-initializes the new fully-connected head a few times
 * while fine-tuning, so the backbone keeps receiving large gradients ("backpropagation in depth").
 * The new values are drawn from (run seed, epoch), so a resumed run re-draws the same ones. Adam's
 * moments of the head are kept (the authors' SGD momentum is kept too).
 */
export function rifle(o: RIFLEOptions): WeightRegularizer {
  const times = o.times ?? RIFLE_DEFAULTS.times;
  if (!Number.isInteger(times) || times < 0)
    throw new TrainConfigError('rifle: times must be an integer >= 0');
  return {
    ...passThrough,
    dispose: () => undefined,
    onEpochStart: (epoch, run) => {
      if (o.when && !o.when()) return;
      if (!rifleEpochs(run.epochs, times).includes(epoch)) return;
      o.head.forEach((layer, li) =>
        layer.weights.forEach((w, wi) => {
          const shape = w.shape.map((v) => v ?? 1);
          const value = tf.tidy(() => {
            if (shape.length < 2) return tf.zeros(shape);
            const fanIn = shape.slice(0, -1).reduce((a, b) => a + b, 1);
            const fanOut = shape[shape.length - 1];
            const limit = Math.sqrt(6 / (fanIn + fanOut));
            return tf.randomUniform(
              shape,
              -limit,
              limit,
              'float32',
              mixSeed(run.seed, epoch, li, wi) % 2 ** 31,
            );
          });
          w.write(value);
          value.dispose();
        }),
      );
    },
  };
}

/** Several regularizers as one: penalties and gradients add up; at most one may own the forward pass. */
export function combineRegularizers(parts: WeightRegularizer[]): WeightRegularizer {
  if (parts.length === 1) return parts[0];
  const forwards = parts.filter((p) => p.forward);
  if (forwards.length > 1) throw new TrainConfigError('at most one regularizer may replace the forward pass');
  return {
    penalty: (weights) => tf.tidy(() => tf.addN(parts.map((p) => p.penalty(weights)))),
    gradients: (weights, lossGrads) => parts.reduce((g, p) => p.gradients(weights, g), lossGrads),
    dispose: () => parts.forEach((p) => p.dispose()),
    ...(forwards[0]?.forward ? { forward: forwards[0].forward.bind(forwards[0]) } : {}),
    onEpochStart: (epoch, run) => parts.forEach((p) => p.onEpochStart?.(epoch, run)),
  };
}
