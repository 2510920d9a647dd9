import * as tf from '@tensorflow/tfjs';
import { arrayBatches, train, withSeededRandom } from '../train';
import { seededPermutation } from '../train/rng';

/**
 * Out-of-fold label scores ("cross-fitting", the held-out probabilities of confident learning,
 * Northcutt et al. 2021): the samples are split into `folds`; for each fold a dense softmax head is
 * trained on the feature vectors of the other folds (with their given, possibly noisy, labels) and
 * scores the held-out fold. A mislabeled sample is judged by a model that never saw its wrong label,
 * so it cannot have memorized it. Cheap on frozen features (one small head per fold).
 */
export interface CrossFitOptions {
  /** Number of folds (default 4). */
  folds?: number;
  /** Epochs of each fold's head (default 30). */
  epochs?: number;
  /** Seed of the fold split, the heads' initialisation and batch order (default 1). */
  seed?: number;
  /** Learning rate (Adam, default 1e-3). */
  learningRate?: number;
  /** Batch size (default 32). */
  batchSize?: number;
  /**
   * Z-score every feature column (mean and standard deviation over all rows; no label is used) before
   * fitting (default false). For vectors that join layers of different scales (multiLayerFeatureExtractor).
   */
  standardize?: boolean;
}

export interface CrossFitScores {
  /** log p(given label) - max over other classes of log p(class), held out; below 0: another class wins. */
  margin: Float64Array;
  /** The held-out model's most probable class other than the given label. */
  winner: Int32Array;
  /** Its probability. */
  winnerProb: Float64Array;
}

export async function crossFitScores(
  features: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  opts: CrossFitOptions = {},
): Promise<CrossFitScores> {
  const n = labels.length;
  const folds = Math.max(2, Math.floor(opts.folds ?? 4));
  if (n < folds) throw new RangeError(`cross-fitting needs at least ${folds} samples`);
  if (features.length % n !== 0) throw new RangeError('features are not n rows of equal length');
  if (classes < 2) throw new RangeError('cross-fitting needs at least 2 classes');
  const dim = features.length / n;
  if (opts.standardize) features = standardizeColumns(features, n, dim);
  const seed = opts.seed ?? 1;
  const epochs = opts.epochs ?? 30;
  const order = Array.from(seededPermutation(n, seed));
  const margin = new Float64Array(n);
  const winner = new Int32Array(n);
  const winnerProb = new Float64Array(n);
  for (let k = 0; k < folds; k++) {
    const held = order.filter((_, i) => i % folds === k);
    const fit = order.filter((_, i) => i % folds !== k);
    const model = withSeededRandom(seed + k, () =>
      tf.sequential({
        layers: [
          tf.layers.dropout({ inputShape: [dim], rate: 0.2, seed: seed + k }),
          tf.layers.dense({ units: classes, activation: 'softmax' }),
        ],
      }),
    );
    try {
      await train(model, {
        data: arrayBatches({
          count: fit.length,
          batchSize: opts.batchSize ?? 32,
          shuffle: true,
          sampleShape: [dim],
          fill: (i, xs, o) => {
            const r = fit[i];
            xs.set(features.subarray(r * dim, (r + 1) * dim), o);
            return labels[r];
          },
        }),
        epochs,
        seed: seed + k,
        learningRate: opts.learningRate ?? 1e-3,
      });
      const buf = new Float32Array(held.length * dim);
      held.forEach((r, i) => buf.set(features.subarray(r * dim, (r + 1) * dim), i * dim));
      const p = tf.tidy(() => (model.predict(tf.tensor2d(buf, [held.length, dim])) as tf.Tensor).dataSync());
      held.forEach((r, i) => {
        const y = labels[r];
        let best = -1;
        for (let c = 0; c < classes; c++)
          if (c !== y && (best < 0 || p[i * classes + c] > p[i * classes + best])) best = c;
        margin[r] =
          Math.log(Math.max(1e-7, p[i * classes + y])) - Math.log(Math.max(1e-7, p[i * classes + best]));
        winner[r] = best;
        winnerProb[r] = p[i * classes + best];
      });
    } finally {
      model.dispose();
    }
  }
  return { margin, winner, winnerProb };
}

/** Columns of an n x dim row-major matrix scaled to mean 0 and standard deviation 1 (constant columns: 0). */
function standardizeColumns(x: Float32Array, n: number, dim: number): Float32Array {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < dim; j++) {
      const v = x[r * dim + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  const out = new Float32Array(x.length);
  for (let j = 0; j < dim; j++) {
    mean[j] /= n;
    const sd = Math.sqrt(Math.max(0, sq[j] / n - mean[j] ** 2));
    for (let r = 0; r < n; r++) out[r * dim + j] = sd > 1e-8 ? (x[r * dim + j] - mean[j]) / sd : 0;
  }
  return out;
}
