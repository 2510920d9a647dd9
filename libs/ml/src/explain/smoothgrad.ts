import * as tf from '@tensorflow/tfjs';
import { Rng } from '../train/rng';
import { channelAbsSum, checkImage, predictOne, probabilities, targetSum } from './model-fn';
import type { Attribution, ModelImage } from './types';

export interface SmoothGradOptions {
  target?: number;
  /** Noisy copies averaged. Default 16. */
  samples?: number;
  /** Noise standard deviation as a fraction of the image's value range (max - min). Default 0.15. */
  noise?: number;
  /** Images per gradient pass. Default 16. */
  batchSize?: number;
  /** Seed of the noise. Default 0. */
  seed?: number;
}

export interface SmoothGradResult extends Attribution {
  method: 'smoothgrad';
  /** Per input value (h*w*c): the mean gradient of p(target) over the noisy copies. */
  gradients: Float32Array;
}

/** Standard normal values from a seeded generator (Box-Muller). */
function gaussian(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rng.next(), 1e-12);
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * SmoothGrad (Smilkov et al. 2017): the gradient of p(target) averaged over copies of the image with
 * Gaussian noise added (σ = noise · (max - min)), the copies run through the model in batches. The
 * heatmap is the per-pixel sum over channels of |mean gradient| (the paper's absolute-value map).
 */
export async function smoothGrad(
  model: tf.LayersModel,
  image: ModelImage,
  options: SmoothGradOptions = {},
): Promise<SmoothGradResult> {
  const started = Date.now();
  checkImage(model, image, options.target);
  const samples = Math.max(1, options.samples ?? 16);
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const [h, w, c] = image.shape;
  const size = h * w * c;
  const first = await predictOne(model, image);
  const target = options.target ?? first.predicted;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const sigma = (options.noise ?? 0.15) * Math.max(hi - lo, 1e-6);
  const rng = new Rng(options.seed ?? 0);
  const gradOf = tf.grad((x: tf.Tensor) => targetSum(probabilities(model, x as tf.Tensor4D), target));
  const sum = new Float32Array(size);
  for (let start = 0; start < samples; start += batchSize) {
    const n = Math.min(batchSize, samples - start);
    const noisy = gaussian(rng, n * size);
    for (let j = 0; j < n; j++)
      for (let i = 0; i < size; i++) noisy[j * size + i] = image.data[i] + sigma * noisy[j * size + i];
    const grads = tf.tidy(() => tf.sum(gradOf(tf.tensor4d(noisy, [n, h, w, c])), 0));
    const values = (await grads.data()) as Float32Array;
    grads.dispose();
    for (let i = 0; i < size; i++) sum[i] += values[i];
  }
  for (let i = 0; i < size; i++) sum[i] /= samples;
  return {
    method: 'smoothgrad',
    target,
    probability: first.probabilities[target],
    height: h,
    width: w,
    gradients: sum,
    heatmap: channelAbsSum(sum, c),
    modelImages: samples + 1,
    ms: Date.now() - started,
  };
}
