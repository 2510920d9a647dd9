import type * as tf from '@tensorflow/tfjs';
import { allLayers } from '../train/layers';
import type { TrainOptions } from '../train/options';
import { blobBatches, makeBlobs, tinyMlp } from '../train/test-helpers';
import { setBatchNormInference } from '../zoo/batch-norm-mode';

/** Specs' data for data-parallel training: 240 train blobs and 90 validation blobs of 3 classes. */
export const blobs = makeBlobs(240, 11, 6, 3, 2.5);
export const validation = makeBlobs(90, 12, 6, 3, 2.5);

/**
 * The worker's kind of recipe on the blobs (Adam, cosine schedule with warmup, a backbone parameter
 * group at a tenth of the learning rate, label smoothing, clipping), 3 epochs, seed 5.
 */
export function recipe(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    data: blobBatches(blobs, 32),
    validation: blobBatches(validation, 45, false),
    epochs: 3,
    optimizer: { type: 'adam' },
    learningRate: 0.02,
    lrSchedule: { type: 'cosine', warmupSteps: 5, minFactor: 0.05 },
    paramGroups: [{ name: 'backbone', layers: ['hidden'], lrScale: 0.1 }],
    labelSmoothing: 0.1,
    clipGradNorm: 1,
    seed: 5,
    progressEverySteps: 0,
    ...extra,
  };
}

/** The tiny MLP with its batch norm held in inference mode, as a pretrained backbone's is. */
export function inferenceBnModel(): tf.LayersModel {
  const m = tinyMlp(3, 6, 3, { dropout: false });
  setBatchNormInference(allLayers(m), true);
  return m;
}

/** Largest absolute difference between two lists of weight arrays. */
export const maxAbsDiff = (a: ArrayLike<number>[], b: ArrayLike<number>[]): number =>
  Math.max(...a.map((w, i) => Math.max(...Array.from(w, (v, j) => Math.abs(v - b[i][j])))));
