import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../train/rng';

/**
 * TrivialAugment (Müller & Hutter, ICCV 2021), the "wide" variant, on [n, h, w, c] batches with values
 * in [0, 1]: every sample gets ONE op drawn uniformly from {@link TRIVIAL_OPS}, with a strength drawn
 * uniformly from 31 levels (0..30) and, for signed ops, a random sign. No parameters to tune.
 *
 * Ranges of the wide space (torchvision's TrivialAugmentWide): rotate up to 135 degrees, shear up to
 * 0.99, translate up to 32 px of a 224 px image (here 32/224 of the side, as sizes vary), brightness,
 * colour (saturation), contrast and sharpness factors 1 +- 0.99, posterize to 2..8 bits, solarize
 * above a threshold in [0, 1]. Equalize is left out (no histogram op on tensors here); autocontrast
 * stretches each channel's min..max to 0..1. Geometric ops fill uncovered pixels with 0.5 grey.
 */
export const TRIVIAL_OPS = [
  'identity',
  'shearX',
  'shearY',
  'translateX',
  'translateY',
  'rotate',
  'brightness',
  'color',
  'contrast',
  'sharpness',
  'posterize',
  'solarize',
  'autocontrast',
] as const;
export type TrivialOp = (typeof TRIVIAL_OPS)[number];

const LEVELS = 31;

export interface TrivialDraw {
  op: TrivialOp;
  /** Strength in [0, 1] (level / 30). */
  magnitude: number;
  /** +1 or -1 for signed ops. */
  sign: number;
}

/** The per-sample draws (op, strength, sign), in sample order, from `rng`. */
export function drawTrivial(n: number, rng: Rng): TrivialDraw[] {
  return Array.from({ length: n }, () => ({
    op: TRIVIAL_OPS[Math.min(TRIVIAL_OPS.length - 1, Math.floor(rng.next() * TRIVIAL_OPS.length))],
    magnitude: Math.min(LEVELS - 1, Math.floor(rng.next() * LEVELS)) / (LEVELS - 1),
    sign: rng.next() < 0.5 ? -1 : 1,
  }));
}

/**
 * Strength ranges of the ops at magnitude 1 (the ops scale linearly with the magnitude, as
 * torchvision's bins do). TrivialAugment uses the wide ranges, RandAugment the standard ones.
 */
export interface OpRanges {
  /** Shear factor. */
  shear: number;
  /** Translation as a fraction of the image side. */
  translate: number;
  /** Rotation in degrees. */
  rotate: number;
  /** Enhance factors (brightness, colour, contrast, sharpness) span 1 +- this. */
  enhance: number;
  /** Bits posterize removes (of 8). */
  posterizeBits: number;
}

/** TrivialAugmentWide's ranges (torchvision). */
export const WIDE_RANGES: OpRanges = {
  shear: 0.99,
  translate: 32 / 224,
  rotate: 135,
  enhance: 0.99,
  posterizeBits: 6,
};

/** RandAugment's ranges (torchvision: shear 0.3, translate 150/331 of the side, 30 degrees, 0.9, 8..4 bits). */
export const RANDAUGMENT_RANGES: OpRanges = {
  shear: 0.3,
  translate: 150 / 331,
  rotate: 30,
  enhance: 0.9,
  posterizeBits: 4,
};

/** The projective transform (tf.image.transform's 8 numbers) mapping output to input pixels. */
function geometry(d: TrivialDraw, h: number, w: number, r: OpRanges): number[] {
  const s = d.sign * d.magnitude;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  switch (d.op) {
    case 'shearX': {
      // x_in = x + k (y - cy)
      const k = r.shear * s;
      return [1, k, -k * cy, 0, 1, 0, 0, 0];
    }
    case 'shearY': {
      const k = r.shear * s;
      return [1, 0, 0, k, 1, -k * cx, 0, 0];
    }
    case 'translateX':
      return [1, 0, r.translate * w * s, 0, 1, 0, 0, 0];
    case 'translateY':
      return [1, 0, 0, 0, 1, r.translate * h * s, 0, 0];
    case 'rotate': {
      const a = (r.rotate * s * Math.PI) / 180;
      const cos = Math.cos(a);
      const sin = Math.sin(a);
      // Rotation about the centre: in = R (out - c) + c.
      return [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0, 0];
    }
    case 'identity':
    case 'brightness':
    case 'color':
    case 'contrast':
    case 'sharpness':
    case 'posterize':
    case 'solarize':
    case 'autocontrast':
      return [1, 0, 0, 0, 1, 0, 0, 0];
  }
}

function perSample(values: number[]): tf.Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

function grey(x: tf.Tensor4D): tf.Tensor4D {
  if (x.shape[3] !== 3) return tf.mean<tf.Tensor4D>(x, 3, true);
  return tf.sum<tf.Tensor4D>(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), 3, true);
}

/** base + f * (x - base) (PIL ImageEnhance), clipped to [0, 1]; f per sample. */
function blend(base: tf.Tensor, x: tf.Tensor4D, factor: tf.Tensor4D): tf.Tensor4D {
  return tf.clipByValue(tf.add<tf.Tensor4D>(base, tf.mul(tf.sub(x, base), factor)), 0, 1);
}

/** PIL's SMOOTH kernel (centre 5, others 1, / 13), per channel, edges kept as they are. */
function smooth(x: tf.Tensor4D): tf.Tensor4D {
  const c = x.shape[3];
  const k = tf.tensor2d([1, 1, 1, 1, 5, 1, 1, 1, 1], [3, 3]).div(13);
  const kernel = tf.tile(k.reshape([3, 3, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
  return tf.depthwiseConv2d<tf.Tensor4D>(x, kernel, 1, 'same');
}

/** Applies each sample's draw (one op per sample) to a [0, 1] batch. Call inside tf.tidy. */
export function applyTrivial(
  x: tf.Tensor4D,
  draws: TrivialDraw[],
  ranges: OpRanges = WIDE_RANGES,
): tf.Tensor4D {
  const [n, h, w] = x.shape;
  if (draws.length !== n) throw new RangeError(`applyTrivial: ${draws.length} draws for ${n} samples`);
  let y = x;
  // Geometric ops: one projective transform per sample (identity for the others).
  if (draws.some((d) => geometry(d, h, w, ranges).some((v, i) => v !== [1, 0, 0, 0, 1, 0, 0, 0][i]))) {
    const t = tf.tensor2d(
      draws.flatMap((d) => geometry(d, h, w, ranges)),
      [n, 8],
    );
    // fillValue 0.5: constant grey (torchvision fills with 0 on uint8; grey keeps the mean).
    y = tf.image.transform(y, t, 'bilinear', 'constant', 0.5);
  }
  const is = (op: TrivialOp) => draws.map((d) => (d.op === op ? 1 : 0));
  const enhance = (op: TrivialOp) =>
    perSample(draws.map((d) => (d.op === op ? 1 + ranges.enhance * d.sign * d.magnitude : 1)));
  const any = (op: TrivialOp) => draws.some((d) => d.op === op);
  if (any('brightness')) y = blend(tf.zerosLike(y), y, enhance('brightness'));
  if (any('color') && y.shape[3] === 3) y = blend(grey(y), y, enhance('color'));
  if (any('contrast')) y = blend(tf.mean(grey(y), [1, 2, 3], true), y, enhance('contrast'));
  if (any('sharpness')) y = blend(smooth(y), y, enhance('sharpness'));
  if (any('posterize')) {
    // Keep `bits` (8 - round(6 m), 2..8, for the wide ranges) of the 8-bit value:
    // floor(v * 255 / 2^(8-bits)) * 2^(8-bits) / 255.
    const step = perSample(
      draws.map((d) => (d.op === 'posterize' ? 2 ** Math.round(ranges.posterizeBits * d.magnitude) : 1)),
    );
    const q = tf.div(tf.mul(tf.floor(tf.div(tf.round(tf.mul(y, 255)), step)), step), 255);
    y = tf.where(tf.cast(perSample(is('posterize')), 'bool'), q, y) as tf.Tensor4D;
  }
  if (any('solarize')) {
    // Invert the pixels at or above the threshold 1 - m (m = 0: nothing changes).
    const thr = perSample(draws.map((d) => (d.op === 'solarize' ? 1 - d.magnitude : 2)));
    y = tf.where(tf.greaterEqual(y, thr), tf.sub(1, y), y) as tf.Tensor4D;
  }
  if (any('autocontrast')) {
    const lo = tf.min(y, [1, 2], true);
    const hi = tf.max(y, [1, 2], true);
    const range = tf.sub(hi, lo);
    const stretched = tf.where(tf.greater(range, 1e-6), tf.div(tf.sub(y, lo), tf.maximum(range, 1e-6)), y);
    y = tf.where(tf.cast(perSample(is('autocontrast')), 'bool'), stretched, y) as tf.Tensor4D;
  }
  return y;
}

/** TrivialAugment on a [0, 1] batch (draws from `rng`). Call inside tf.tidy. */
export function trivialAugment(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  return applyTrivial(x, drawTrivial(x.shape[0], rng));
}

/** RandAugment defaults (Cubuk et al. 2020; torchvision): 2 ops per image at magnitude 9 of 30. */
export const RANDAUGMENT_DEFAULTS = { ops: 2, magnitude: 9 } as const;

/**
 * RandAugment's draws: `ops` rounds, each giving every sample one op drawn uniformly from
 * {@link TRIVIAL_OPS} (with replacement across rounds) at the fixed strength `magnitude` / 30, with a
 * random sign for signed ops. Round-major: draws[k][i] is sample i's op of round k.
 */
export function drawRandAugment(
  n: number,
  rng: Rng,
  o: { ops?: number; magnitude?: number } = {},
): TrivialDraw[][] {
  const ops = o.ops ?? RANDAUGMENT_DEFAULTS.ops;
  const magnitude =
    Math.min(LEVELS - 1, Math.max(0, o.magnitude ?? RANDAUGMENT_DEFAULTS.magnitude)) / (LEVELS - 1);
  return Array.from({ length: ops }, () =>
    Array.from({ length: n }, () => ({
      op: TRIVIAL_OPS[Math.min(TRIVIAL_OPS.length - 1, Math.floor(rng.next() * TRIVIAL_OPS.length))],
      magnitude,
      sign: rng.next() < 0.5 ? -1 : 1,
    })),
  );
}

/**
 * RandAugment (Cubuk, Zoph, Shlens, Le, CVPR Workshops 2020) on a [0, 1] batch: `ops` ops in a row
 * per image, each drawn uniformly, all at one magnitude, with torchvision's standard ranges
 * ({@link RANDAUGMENT_RANGES}; Equalize left out as in TrivialAugment here). Call inside tf.tidy.
 */
export function randAugment(
  x: tf.Tensor4D,
  rng: Rng,
  o: { ops?: number; magnitude?: number } = {},
): tf.Tensor4D {
  return drawRandAugment(x.shape[0], rng, o).reduce(
    (y, draws) => applyTrivial(y, draws, RANDAUGMENT_RANGES),
    x,
  );
}
