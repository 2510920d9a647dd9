import * as tf from '@tensorflow/tfjs';
import { loopTurns } from '../train/loop-turns';
import { Rng } from '../train/rng';
import { baselineImage, checkImage, classProbabilities, predictOne, type Baseline } from './model-fn';
import { weightedRidge } from './ridge';
import { gridSegments, slicSegments, type Segmentation } from './superpixels';
import type { Attribution, ModelImage } from './types';

export interface LimeOptions {
  target?: number;
  /** Perturbed images (the first keeps every segment). Default 128. */
  samples?: number;
  /** Images per forward pass. Default 32. */
  batchSize?: number;
  /** Superpixels: a segmentation, or how to make one. Default SLIC with ~50 segments. */
  segments?:
    | Segmentation
    | { kind: 'slic'; count?: number; compactness?: number }
    | { kind: 'grid'; rows: number; cols: number };
  /** Model-input value(s) a hidden segment takes, per channel. Default 0 (pass the normalized black pixel). */
  baseline?: Baseline;
  /** Width of the exponential kernel on the cosine distance to the full image. Default 0.25 (lime's images default). */
  kernelWidth?: number;
  /** Ridge penalty. Default 1 (lime's default). */
  ridge?: number;
  seed?: number;
}

export interface LimeResult extends Attribution {
  method: 'lime';
  segmentation: Segmentation;
  /** One linear weight per segment: the change of p(target) when the segment is shown. */
  weights: Float64Array;
  intercept: number;
  /** Weighted R² of the local linear model. */
  score: number;
}

export function resolveSegments(image: ModelImage, spec: LimeOptions['segments']): Segmentation {
  const [h, w] = image.shape;
  if (!spec) return slicSegments(image, { segments: 50 });
  if ('labels' in spec) return spec;
  if (spec.kind === 'grid') return gridSegments(h, w, spec.rows, spec.cols);
  return slicSegments(image, { segments: spec.count ?? 50, compactness: spec.compactness });
}

/**
 * LIME for images (Ribeiro, Singh & Guestrin 2016): random on/off masks over superpixels, hidden
 * segments set to the baseline, the model's p(target) on each perturbed image (batched), and a
 * weighted ridge regression of p on the masks with weights sqrt(exp(-d²/w²)), d the cosine distance
 * of the mask to the all-on mask (lime's image explainer). The heatmap gives each pixel its segment's weight.
 */
export async function limeImage(
  model: tf.LayersModel,
  image: ModelImage,
  options: LimeOptions = {},
): Promise<LimeResult> {
  const started = Date.now();
  checkImage(model, image, options.target);
  const [h, w, c] = image.shape;
  const size = h * w * c;
  const samples = Math.max(2, options.samples ?? 128);
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const kernelWidth = options.kernelWidth ?? 0.25;
  const segmentation = resolveSegments(image, options.segments);
  const s = segmentation.count;
  const target = options.target ?? (await predictOne(model, image)).predicted;
  const hidden = baselineImage(image.shape, options.baseline ?? 0);
  const rng = new Rng(options.seed ?? 0);
  const masks = new Float32Array(samples * s);
  for (let j = 0; j < s; j++) masks[j] = 1;
  for (let i = s; i < masks.length; i++) masks[i] = rng.next() < 0.5 ? 0 : 1;
  const ys = new Float64Array(samples);
  const turn = loopTurns();
  for (let start = 0; start < samples; start += batchSize) {
    await turn();
    const n = Math.min(batchSize, samples - start);
    const batch = new Float32Array(n * size);
    for (let j = 0; j < n; j++) {
      const mask = (start + j) * s;
      const out = j * size;
      for (let p = 0; p < h * w; p++) {
        const on = masks[mask + segmentation.labels[p]] === 1;
        for (let k = 0; k < c; k++) batch[out + p * c + k] = on ? image.data[p * c + k] : hidden[p * c + k];
      }
    }
    const x = tf.tensor4d(batch, [n, h, w, c]);
    const probs = await classProbabilities(model, x, target);
    x.dispose();
    for (let j = 0; j < n; j++) ys[start + j] = probs[j];
  }
  const weights = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    let on = 0;
    for (let j = 0; j < s; j++) on += masks[i * s + j];
    const distance = on === 0 ? 1 : 1 - on / Math.sqrt(on * s);
    weights[i] = Math.sqrt(Math.exp(-(distance * distance) / (kernelWidth * kernelWidth)));
  }
  const fit = weightedRidge(masks, samples, s, ys, weights, options.ridge ?? 1);
  const heatmap = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) heatmap[p] = fit.coef[segmentation.labels[p]];
  return {
    method: 'lime',
    target,
    probability: ys[0],
    height: h,
    width: w,
    heatmap,
    segmentation,
    weights: fit.coef,
    intercept: fit.intercept,
    score: fit.r2,
    modelImages: samples + (options.target === undefined ? 1 : 0),
    ms: Date.now() - started,
  };
}
