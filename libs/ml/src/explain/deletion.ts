import type * as tf from '@tensorflow/tfjs';
import * as tfc from '@tensorflow/tfjs';
import { Rng } from '../train/rng';
import { baselineImage, classProbabilities, type Baseline } from './model-fn';
import type { ModelImage } from './types';

export interface DeletionOptions {
  /** Points of the curve after the start: fractions 1/steps, 2/steps, ... 1. Default 20. */
  steps?: number;
  baseline?: Baseline;
  /** The image (HWC, as the model takes it) whose values deleted pixels take, e.g. {@link blurredImage}; overrides `baseline`. */
  fill?: Float32Array;
  batchSize?: number;
}

/**
 * `image` blurred: three passes of a (2 radius + 1)-wide box filter per axis (close to a Gaussian of
 * σ ≈ radius), edges clamped. Deleting pixels to a blurred copy (as RISE's insertion canvas) removes
 * their detail without painting black holes the model never saw in training.
 */
export function blurredImage(image: ModelImage, radius: number): Float32Array {
  const [h, w, c] = image.shape;
  let src = Float32Array.from(image.data);
  let dst = new Float32Array(src.length);
  const r = Math.max(0, Math.floor(radius));
  const pass = (len: number, lines: number, at: (line: number, i: number) => number) => {
    for (let line = 0; line < lines; line++)
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let i = -r; i <= r; i++) sum += src[at(line, Math.min(len - 1, Math.max(0, i))) * c + ch];
        for (let i = 0; i < len; i++) {
          dst[at(line, i) * c + ch] = sum / (2 * r + 1);
          sum += src[at(line, Math.min(len - 1, i + r + 1)) * c + ch];
          sum -= src[at(line, Math.max(0, i - r)) * c + ch];
        }
      }
    [src, dst] = [dst, src];
  };
  for (let k = 0; k < 3; k++) {
    pass(w, h, (y, x) => y * w + x);
    pass(h, w, (x, y) => y * w + x);
  }
  return src;
}

export interface DeletionCurve {
  /** Fractions of pixels removed, 0..1. */
  fractions: number[];
  /** p(target) after removing that fraction. */
  probabilities: number[];
  /** Area under the curve (trapezoid over the fraction): lower means the ranking found what the model needs sooner. */
  auc: number;
}

/** Pixel indices ordered by score, largest first; ties in a seeded random order. */
export function rankPixels(heatmap: Float32Array, seed = 0): Int32Array {
  const order = randomOrder(heatmap.length, seed);
  const ranked = Array.from(order).sort((a, b) => heatmap[b] - heatmap[a]);
  return Int32Array.from(ranked);
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates). */
export function randomOrder(n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Pixel indices patch by patch (patch x patch squares; edge patches smaller): patches ordered by their
 * mean score, largest first (`scores` undefined: a seeded random patch order), each patch's pixels together.
 * Deleting whole patches compares attribution and random orders on the same kind of perturbation: on
 * natural photos, black pixels scattered at random destroy a prediction faster than any contiguous region does.
 */
export function patchOrder(
  scores: Float32Array | undefined,
  height: number,
  width: number,
  patch: number,
  seed = 0,
): Int32Array {
  const rows = Math.ceil(height / patch);
  const cols = Math.ceil(width / patch);
  const means = new Float32Array(rows * cols);
  if (scores) {
    const counts = new Float32Array(rows * cols);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const cell = Math.floor(y / patch) * cols + Math.floor(x / patch);
        means[cell] += scores[y * width + x];
        counts[cell] += 1;
      }
    for (let i = 0; i < means.length; i++) means[i] /= counts[i];
  }
  const cells = scores ? rankPixels(means, seed) : randomOrder(rows * cols, seed);
  const out = new Int32Array(height * width);
  let k = 0;
  for (const cell of cells) {
    const y0 = Math.floor(cell / cols) * patch;
    const x0 = (cell % cols) * patch;
    for (let y = y0; y < Math.min(height, y0 + patch); y++)
      for (let x = x0; x < Math.min(width, x0 + patch); x++) out[k++] = y * width + x;
  }
  return out;
}

/**
 * The deletion metric (Petsiuk et al. 2018, RISE): pixels are set to the baseline in the given order,
 * a fraction at a time, and p(target) is read after each step; the curve's area summarizes it.
 */
export async function deletionCurve(
  model: tf.LayersModel,
  image: ModelImage,
  target: number,
  order: Int32Array,
  options: DeletionOptions = {},
): Promise<DeletionCurve> {
  const [h, w, c] = image.shape;
  const pixels = h * w;
  const size = pixels * c;
  const steps = Math.max(1, options.steps ?? 20);
  const hidden = options.fill ?? baselineImage(image.shape, options.baseline ?? 0);
  if (hidden.length !== size) throw new RangeError(`fill has ${hidden.length} values for ${size}`);
  const points = steps + 1;
  const batch = new Float32Array(points * size);
  const current = Float32Array.from(image.data);
  let removed = 0;
  const fractions: number[] = [];
  for (let k = 0; k < points; k++) {
    const upTo = Math.round((k / steps) * pixels);
    for (; removed < upTo; removed++) {
      const p = order[removed];
      for (let ch = 0; ch < c; ch++) current[p * c + ch] = hidden[p * c + ch];
    }
    batch.set(current, k * size);
    fractions.push(upTo / pixels);
  }
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const probabilities: number[] = [];
  for (let start = 0; start < points; start += batchSize) {
    const n = Math.min(batchSize, points - start);
    const x = tfc.tensor4d(batch.subarray(start * size, (start + n) * size), [n, h, w, c]);
    probabilities.push(...(await classProbabilities(model, x, target)));
    x.dispose();
  }
  let auc = 0;
  for (let k = 1; k < points; k++)
    auc += ((probabilities[k] + probabilities[k - 1]) / 2) * (fractions[k] - fractions[k - 1]);
  return { fractions, probabilities, auc };
}
