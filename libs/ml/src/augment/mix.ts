import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../train/rng';

/**
 * Sample-mixing augmentations: a batch is mixed with a permutation of itself, images and one-hot
 * labels alike, so the loss sees soft targets. One mixing coefficient per batch, as in both papers'
 * reference code. Call inside tf.tidy.
 */

/** Mixup (Zhang et al., ICLR 2018) alpha on ImageNet; CutMix (Yun et al., ICCV 2019) alpha = 1. */
export const MIXUP_ALPHA = 0.2;
export const CUTMIX_ALPHA = 1;

/** Gamma(shape, 1) by Marsaglia and Tsang (2000), with the shape < 1 boost. */
function gamma(shape: number, rng: Rng): number {
  if (shape < 1) return gamma(shape + 1, rng) * Math.pow(Math.max(rng.next(), 1e-12), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      // Standard normal by Box-Muller.
      const u1 = Math.max(rng.next(), 1e-12);
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Math.log(v)))
      return d * v;
  }
}

/** A Beta(alpha, alpha) draw. */
export function betaSample(alpha: number, rng: Rng): number {
  const a = gamma(alpha, rng);
  const b = gamma(alpha, rng);
  return a + b > 0 ? a / (a + b) : 0.5;
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng.next() * (i + 1)));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export interface Mixed {
  xs: tf.Tensor4D;
  /** Soft targets [n, numClasses]. */
  ys: tf.Tensor2D;
  /** Weight of the original sample (the partner gets 1 - lambda). */
  lambda: number;
  partner: number[];
}

function oneHot(ys: tf.Tensor, numClasses: number): tf.Tensor2D {
  if (ys.rank === 2 && ys.shape[1] === numClasses) return tf.cast(ys, 'float32') as tf.Tensor2D;
  return tf.oneHot(tf.cast(ys.reshape([-1]), 'int32') as tf.Tensor1D, numClasses).toFloat() as tf.Tensor2D;
}

/** Mixup: lambda ~ Beta(alpha, alpha); x = lambda x + (1 - lambda) x[perm], same for the labels. */
export function mixup(
  xs: tf.Tensor4D,
  ys: tf.Tensor,
  numClasses: number,
  rng: Rng,
  alpha = MIXUP_ALPHA,
): Mixed {
  const n = xs.shape[0];
  const lambda = betaSample(alpha, rng);
  const partner = permutation(n, rng);
  const idx = tf.tensor1d(partner, 'int32');
  const y1 = oneHot(ys, numClasses);
  return {
    xs: tf.add(tf.mul(xs, lambda), tf.mul(tf.gather(xs, idx), 1 - lambda)),
    ys: tf.add(tf.mul(y1, lambda), tf.mul(tf.gather(y1, idx), 1 - lambda)),
    lambda,
    partner,
  };
}

/**
 * CutMix: lambda ~ Beta(alpha, alpha); a box of (1 - lambda) of the area, centred uniformly (clipped
 * at the borders), is pasted from x[perm]; the labels mix by the box's actual area.
 */
export function cutmix(
  xs: tf.Tensor4D,
  ys: tf.Tensor,
  numClasses: number,
  rng: Rng,
  alpha = CUTMIX_ALPHA,
): Mixed {
  const [n, h, w, c] = xs.shape;
  const drawn = betaSample(alpha, rng);
  const partner = permutation(n, rng);
  const cut = Math.sqrt(1 - drawn);
  const cy = rng.next() * h;
  const cx = rng.next() * w;
  const y0 = Math.max(0, Math.round(cy - (cut * h) / 2));
  const y1 = Math.min(h, Math.round(cy + (cut * h) / 2));
  const x0 = Math.max(0, Math.round(cx - (cut * w) / 2));
  const x1 = Math.min(w, Math.round(cx + (cut * w) / 2));
  const lambda = 1 - ((y1 - y0) * (x1 - x0)) / (h * w);
  const mask = tf.buffer([1, h, w, 1], 'bool');
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask.set(true, 0, y, x, 0);
  const idx = tf.tensor1d(partner, 'int32');
  const boxMask = tf.tile(mask.toTensor(), [n, 1, 1, c]);
  const yh = oneHot(ys, numClasses);
  return {
    xs: tf.where<tf.Tensor4D>(boxMask, tf.gather(xs, idx), xs),
    ys: tf.add(tf.mul(yh, lambda), tf.mul(tf.gather(yh, idx), 1 - lambda)),
    lambda,
    partner,
  };
}
