import * as tf from '@tensorflow/tfjs';
import { TrainConfigError } from './errors';
import { isNoDecayWeight } from './layers';

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
