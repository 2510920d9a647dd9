import * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../preprocess';
import type { AugmentFn } from '../train/augment-hook';
import { mixSeed, Rng } from '../train/rng';
import { lightAugmentFused } from './light-fused';
import { cutmix, mixup } from './mix';
import { colorJitter, randomHorizontalFlip, randomResizedCrop } from './ops';
import { randAugment, trivialAugment } from './trivial';

/**
 * How training images are augmented: 'none'; 'light' (flip, resized crop, colour jitter); 'trivial'
 * (flip, then TrivialAugment's one random op per image); 'randaugment' (flip, then RandAugment's two
 * random ops per image at magnitude 9); 'mixup' / 'cutmix' ('light', then the batch mixed with a
 * permutation of itself, labels too).
 */
export const AUGMENTATION_POLICIES = ['none', 'light', 'trivial', 'randaugment', 'mixup', 'cutmix'] as const;
export type AugmentationPolicy = (typeof AUGMENTATION_POLICIES)[number];

export interface ImageAugmenterOptions {
  /** Classes of the labels (needed by 'mixup' and 'cutmix', which return soft targets). */
  numClasses?: number;
}

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
  options: ImageAugmenterOptions = {},
): AugmentFn | undefined {
  if (policy === 'none') return undefined;
  const mixes = policy === 'mixup' || policy === 'cutmix';
  const numClasses = options.numClasses ?? 0;
  if (mixes && !(numClasses >= 2)) throw new RangeError(`'${policy}' needs numClasses >= 2`);
  return (xs, ctx, ys) => {
    if (xs.rank !== 4)
      throw new RangeError(`image augmentation needs [n, h, w, c] batches, got rank ${xs.rank}`);
    const rng = new Rng(mixSeed(ctx.seed, ctx.epoch, ctx.step, 0x617567));
    const { scale, offset } = toUnitAffine(normalization, xs.shape[3] ?? 1);
    if (policy !== 'trivial' && policy !== 'randaugment' && xs.dtype === 'float32') {
      // 'light' (and the mixes' light part) in two plain-JS passes per image: the ops' values.
      return tf.tidy(() => {
        const shape = xs.shape as [number, number, number, number];
        const light = lightAugmentFused(xs.dataSync<'float32'>(), shape, scale, offset, rng);
        const u = tf.tensor4d(light, shape, 'float32');
        if (!(mixes && ys)) return u;
        // Mixing is affine per pixel, so it commutes with the normalization's affine map.
        const m = (policy === 'mixup' ? mixup : cutmix)(u, ys, numClasses, rng);
        return { xs: m.xs, ys: m.ys };
      });
    }
    return tf.tidy(() => {
      const sc = tf.tensor1d(scale);
      const of = tf.tensor1d(offset);
      let u = tf.clipByValue(tf.add(tf.mul(xs, sc), of), 0, 1) as tf.Tensor4D;
      u = randomHorizontalFlip(u, rng);
      if (policy === 'trivial') {
        u = trivialAugment(u, rng);
      } else if (policy === 'randaugment') {
        u = randAugment(u, rng);
      } else {
        u = randomResizedCrop(u, rng, { scale: [0.6, 1] });
        u = colorJitter(u, rng, { brightness: 0.2, contrast: 0.2, saturation: 0.2 });
      }
      if (mixes && ys) {
        const m = (policy === 'mixup' ? mixup : cutmix)(u, ys, numClasses, rng);
        return { xs: tf.div(tf.sub(m.xs, of), sc), ys: m.ys };
      }
      return tf.div(tf.sub(u, of), sc);
    });
  };
}
