import type * as tf from '@tensorflow/tfjs';
import * as tfc from '@tensorflow/tfjs';
import { Rng } from '../train/rng';
import { baselineImage, classProbabilities, type Baseline } from './model-fn';
import type { ModelImage } from './types';

export interface DeletionOptions {
  /** Points of the curve after the start: fractions 1/steps, 2/steps, ... 1. Default 20. */
  steps?: number;
  baseline?: Baseline;
  batchSize?: number;
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
  const hidden = baselineImage(image.shape, options.baseline ?? 0);
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
