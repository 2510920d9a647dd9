import * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../preprocess';
import type { AugmentContext } from '../train/augment-hook';
import { mixSeed, Rng } from '../train/rng';
import { colorJitter, randomHorizontalFlip, randomResizedCrop } from './ops';

/** How much training images are augmented: 'none', or 'light' (flip, resized crop, colour jitter). */
export type AugmentationPolicy = 'none' | 'light';

/** Per-channel affine map from normalized model input to [0, 1] pixels: unit = x * scale + offset. */
function toUnitAffine(norm: Normalization, channels: number): { scale: number[]; offset: number[] } {
  const per = (f: (c: number) => [number, number]) => {
    const pairs = Array.from({ length: channels }, (_, c) => f(c));
    return { scale: pairs.map((p) => p[0]), offset: pairs.map((p) => p[1]) };
  };
  switch (norm.kind) {
    case 'unit':
      return per(() => [1, 0]);
    case 'symmetric':
      return per(() => [0.5, 0.5]);
    case 'raw':
      return per(() => [1 / 255, 0]);
    case 'meanStd':
      return per((c) => [norm.std[c] ?? norm.std[0], norm.mean[c] ?? norm.mean[0]]);
  }
}

/**
 * The trainer's `augment` hook for image batches ([n, h, w, c], normalized with `normalization`).
 * The batch's generator is seeded from (run seed, epoch, step) only, so a resumed run replays the
 * augmentation of an uninterrupted one and the checkpoint needs nothing more. Returns undefined for
 * 'none'. The ops run on [0, 1] pixels (converted from and back to the normalization).
 */
export function imageAugmenter(
  policy: AugmentationPolicy,
  normalization: Normalization,
): ((xs: tf.Tensor, ctx: AugmentContext) => tf.Tensor) | undefined {
  if (policy === 'none') return undefined;
  return (xs, ctx) => {
    if (xs.rank !== 4)
      throw new RangeError(`image augmentation needs [n, h, w, c] batches, got rank ${xs.rank}`);
    const rng = new Rng(mixSeed(ctx.seed, ctx.epoch, ctx.step, 0x617567));
    const { scale, offset } = toUnitAffine(normalization, xs.shape[3] ?? 1);
    return tf.tidy(() => {
      const sc = tf.tensor1d(scale);
      const of = tf.tensor1d(offset);
      let u = tf.clipByValue(tf.add(tf.mul(xs, sc), of), 0, 1) as tf.Tensor4D;
      u = randomHorizontalFlip(u, rng);
      u = randomResizedCrop(u, rng, { scale: [0.6, 1] });
      u = colorJitter(u, rng, { brightness: 0.2, contrast: 0.2, saturation: 0.2 });
      return tf.div(tf.sub(u, of), sc);
    });
  };
}
