/**
 * Frozen-backbone features and a dense softmax head on them, shared by the label-noise benches
 * (bench/mislabel.ts, bench/mislabel-clean.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../libs/ml/src/data';
import { normalizePixels } from '../libs/ml/src/preprocess';
import { arrayBatches, train, withSeededRandom, type DynamicsValues } from '../libs/ml/src/train';
import type { Normalization } from '../libs/ml/src/preprocess';

/** The backbone's features of every image of `ds` (spatial maps averaged), row after row, 16 images a batch. */
export function embedImages(
  ds: ImageDataset,
  backbone: { spec: { normalization: Normalization }; model: tf.LayersModel },
): Float32Array {
  const px = ds.height * ds.width * 3;
  const parts: Float32Array[] = [];
  for (let i = 0; i < ds.count; i += 16) {
    const n = Math.min(16, ds.count - i);
    const f = tf.tidy(() => {
      const pixels = normalizePixels(
        ds.images.subarray(i * px, (i + n) * px),
        3,
        backbone.spec.normalization,
      );
      const y = backbone.model.predict(tf.tensor4d(pixels, [n, ds.height, ds.width, 3])) as tf.Tensor;
      return y.rank === 4 ? tf.mean(y, [1, 2]) : y.reshape([n, -1]);
    });
    parts.push(f.dataSync() as Float32Array);
    f.dispose();
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Batches of 32 feature rows `idx` of `feat` (`dim` wide) with `labels` (indexed like idx). */
export function featureBatches(
  feat: Float32Array,
  dim: number,
  labels: ArrayLike<number>,
  idx: number[],
  shuffle: boolean,
) {
  return arrayBatches({
    count: idx.length,
    batchSize: 32,
    shuffle,
    sampleShape: [dim],
    fill: (i, xs, o) => {
      xs.set(feat.subarray(idx[i] * dim, (idx[i] + 1) * dim), o);
      return labels[i];
    },
  });
}

/**
 * A seeded dense softmax head (dropout 0.2) trained on feature rows `idx` with `labels` (indexed like
 * idx), Adam 1e-3; with `track`, the training dynamics of those rows too.
 */
export async function fitDenseHead(
  feat: Float32Array,
  dim: number,
  classes: number,
  idx: number[],
  labels: ArrayLike<number>,
  opts: { epochs: number; seed: number; track: boolean },
): Promise<{ model: tf.Sequential; dyn?: DynamicsValues; seconds: number }> {
  const { epochs, seed, track } = opts;
  const model = withSeededRandom(seed, () =>
    tf.sequential({
      layers: [
        tf.layers.dropout({ inputShape: [dim], rate: 0.2, seed }),
        tf.layers.dense({ units: classes, activation: 'softmax' }),
      ],
    }),
  );
  const res = await train(model, {
    data: featureBatches(feat, dim, labels, idx, true),
    epochs,
    seed,
    learningRate: 1e-3,
    ...(track ? { dynamics: { samples: idx.length } } : {}),
  });
  return { model, dyn: res.dynamics, seconds: res.seconds };
}
