import type * as tf from '@tensorflow/tfjs';
import { limeImage } from './lime';
import type { Baseline } from './model-fn';
import { gridSegments } from './superpixels';
import type { ModelImage } from './types';

export interface NormLimeOptions {
  /** The shared features: cells of a rows x cols grid. Default 7 x 7. */
  grid?: { rows: number; cols: number };
  /** LIME samples per image. Default 64. */
  samples?: number;
  baseline?: Baseline;
  batchSize?: number;
  seed?: number;
  /** Date.now() time after which no further image is explained (the report says how many were). */
  deadline?: number;
  /** Further deadlines on other clocks (e.g. a search's CPU clock): each `at` as read by its `now`. */
  deadlines?: ReadonlyArray<{ at: number; now: () => number }>;
}

export interface NormLimeClass {
  classIndex: number;
  /** Images predicted as this class that were explained. */
  explanations: number;
  /**
   * NormLIME importance per grid cell (row-major): the mean over this class's explanations of
   * w_j² / Σ_k |w_k| (each local LIME weight vector normalized by its L1 norm, as InterpretDL does).
   */
  importance: number[];
  /** Mean signed LIME weight per cell: positive cells raise p(class) when shown. */
  meanWeight: number[];
}

export interface NormLimeReport {
  method: 'normlime';
  grid: { rows: number; cols: number };
  samplesPerImage: number;
  /** Images explained (fewer than given when the deadline cut the run short). */
  images: number;
  classes: NormLimeClass[];
  ms: number;
}

/**
 * NormLIME (Ahern et al. 2019): global, per-class feature importance aggregated from local LIME
 * explanations. Each image is explained for the class the model predicts, over a fixed grid of
 * cells shared by every image (the global features; InterpretDL instead clusters superpixels with a
 * pretrained feature extractor, which is not available here), its weights normalized per
 * explanation and averaged per predicted class.
 */
export async function normLime(
  model: tf.LayersModel,
  images: readonly ModelImage[],
  numClasses: number,
  options: NormLimeOptions = {},
): Promise<NormLimeReport> {
  const started = Date.now();
  const grid = options.grid ?? { rows: 7, cols: 7 };
  const samples = options.samples ?? 64;
  const cells = grid.rows * grid.cols;
  const sums = Array.from({ length: numClasses }, () => new Float64Array(cells));
  const signed = Array.from({ length: numClasses }, () => new Float64Array(cells));
  const counts = new Array<number>(numClasses).fill(0);
  let explained = 0;
  for (let i = 0; i < images.length; i++) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) break;
    if (options.deadlines?.some((d) => d.now() >= d.at)) break;
    const image = images[i];
    const [h, w] = image.shape;
    const segmentation = gridSegments(h, w, grid.rows, grid.cols);
    const local = await limeImage(model, image, {
      samples,
      segments: segmentation,
      baseline: options.baseline,
      batchSize: options.batchSize,
      seed: (options.seed ?? 0) + i,
    });
    let l1 = 0;
    for (const v of local.weights) l1 += Math.abs(v);
    const c = local.target;
    counts[c] += 1;
    explained += 1;
    for (let j = 0; j < segmentation.count; j++) {
      sums[c][j] += l1 > 0 ? (local.weights[j] * local.weights[j]) / l1 : 0;
      signed[c][j] += local.weights[j];
    }
  }
  const effectiveGrid =
    images.length > 0 ? gridSegments(images[0].shape[0], images[0].shape[1], grid.rows, grid.cols) : null;
  const used = effectiveGrid?.count ?? cells;
  return {
    method: 'normlime',
    grid,
    samplesPerImage: samples,
    images: explained,
    classes: counts.map((n, c) => ({
      classIndex: c,
      explanations: n,
      importance: Array.from(sums[c].subarray(0, used), (v) => (n > 0 ? v / n : 0)),
      meanWeight: Array.from(signed[c].subarray(0, used), (v) => (n > 0 ? v / n : 0)),
    })),
    ms: Date.now() - started,
  };
}
