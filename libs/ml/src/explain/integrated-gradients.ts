import * as tf from '@tensorflow/tfjs';
import {
  baselineImage,
  channelSum,
  checkImage,
  classProbabilities,
  predictOne,
  probabilities,
  targetSum,
  type Baseline,
} from './model-fn';
import type { Attribution, ModelImage } from './types';

export interface IntegratedGradientsOptions {
  /** Class to explain (default: the predicted class). */
  target?: number;
  /** Intervals of the path integral (trapezoidal rule over steps + 1 points). Default 32. */
  steps?: number;
  /** Images per gradient pass. Default 16. */
  batchSize?: number;
  /** Model-input value(s) of the baseline image, per channel. Default 0; pass the normalized black pixel. */
  baseline?: Baseline;
}

export interface IntegratedGradientsResult extends Attribution {
  method: 'integrated-gradients';
  /** Per input value (h*w*c): (x - baseline) times the path-averaged gradient of p(target). */
  attributions: Float32Array;
  /** p(target | baseline). */
  baselineProbability: number;
  /**
   * Completeness gap: sum(attributions) - (p(target | x) - p(target | baseline)). Zero for the exact
   * integral; shrinks as `steps` grows.
   */
  delta: number;
}

/**
 * Integrated Gradients (Sundararajan, Taly & Yan 2017): attributions = (x - x') * ∫₀¹ ∂p_t(x' + a(x - x'))/∂x da,
 * the integral by the trapezoidal rule, the path points run through the model in batches.
 * The heatmap is the per-pixel sum of the signed attributions over channels.
 */
export async function integratedGradients(
  model: tf.LayersModel,
  image: ModelImage,
  options: IntegratedGradientsOptions = {},
): Promise<IntegratedGradientsResult> {
  const started = Date.now();
  checkImage(model, image, options.target);
  const steps = options.steps ?? 32;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const [h, w, c] = image.shape;
  const target = options.target ?? (await predictOne(model, image)).predicted;
  const baseline = baselineImage(image.shape, options.baseline ?? 0);
  const diffValues = new Float32Array(image.data.length);
  for (let i = 0; i < diffValues.length; i++) diffValues[i] = image.data[i] - baseline[i];

  const x0 = tf.tensor4d(baseline, [1, h, w, c]);
  const diff = tf.tensor4d(diffValues, [1, h, w, c]);
  const gradOf = tf.grad((x: tf.Tensor) => targetSum(probabilities(model, x as tf.Tensor4D), target));
  let total = tf.zeros<tf.Rank.R3>([h, w, c]);
  const points = steps + 1;
  try {
    for (let start = 0; start < points; start += batchSize) {
      const n = Math.min(batchSize, points - start);
      const alphas = new Float32Array(n);
      const weights = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const k = start + j;
        alphas[j] = k / steps;
        weights[j] = (k === 0 || k === steps ? 0.5 : 1) / steps;
      }
      const next = tf.tidy(() => {
        const a = tf.tensor4d(alphas, [n, 1, 1, 1]);
        const xs = tf.add<tf.Tensor4D>(x0, tf.mul(a, diff));
        const grads = gradOf(xs);
        const weighted = tf.sum(tf.mul(grads, tf.tensor4d(weights, [n, 1, 1, 1])), 0);
        return tf.add<tf.Tensor3D>(total, weighted);
      });
      total.dispose();
      total = next;
    }
    const attributionTensor = tf.tidy(() => tf.mul(total, diff.reshape([h, w, c])));
    const attributions = (await attributionTensor.data()) as Float32Array;
    attributionTensor.dispose();
    const ends = tf.tidy(() => tf.concat<tf.Tensor4D>([x0, tf.add<tf.Tensor4D>(x0, diff)]));
    const [pBaseline, pImage] = await classProbabilities(model, ends, target);
    ends.dispose();
    let sum = 0;
    for (const v of attributions) sum += v;
    return {
      method: 'integrated-gradients',
      target,
      probability: pImage,
      baselineProbability: pBaseline,
      delta: sum - (pImage - pBaseline),
      height: h,
      width: w,
      attributions,
      heatmap: channelSum(attributions, c),
      modelImages: points + 2,
      ms: Date.now() - started,
    };
  } finally {
    tf.dispose([x0, diff, total]);
  }
}
