import * as tf from '@tensorflow/tfjs';
import { arrayBatches, type EpochBatchFactory } from './batches';
import { orderedWeights } from './layers';
import { Rng, withSeededRandom } from './rng';

/** Test fixtures: a small Gaussian-blob classification problem and tiny models (CPU-fast). */

export interface Blobs {
  xs: Float32Array;
  ys: Int32Array;
  count: number;
  dim: number;
  classes: number;
}

/** `count` points in `dim` dimensions, class k centred on 2 * e_k, with uniform noise. */
export function makeBlobs(count: number, seed: number, dim = 6, classes = 3, noise = 2): Blobs {
  const r = new Rng(seed);
  const xs = new Float32Array(count * dim);
  const ys = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    ys[i] = c;
    for (let j = 0; j < dim; j++) xs[i * dim + j] = (j === c ? 2 : 0) + (r.next() - 0.5) * noise;
  }
  return { xs, ys, count, dim, classes };
}

export function blobBatches(b: Blobs, batchSize: number, shuffle = true): EpochBatchFactory {
  return arrayBatches({
    count: b.count,
    batchSize,
    shuffle,
    sampleShape: [b.dim],
    fill: (i, xs, o) => {
      xs.set(b.xs.subarray(i * b.dim, (i + 1) * b.dim), o);
      return b.ys[i];
    },
  });
}

/** dense -> batchnorm -> dropout -> dense(softmax), initialised from `seed`. */
export function tinyMlp(
  seed: number,
  dim = 6,
  classes = 3,
  opts: { dropout?: boolean; bn?: boolean } = {},
): tf.LayersModel {
  return withSeededRandom(seed, () => {
    const layers: tf.layers.Layer[] = [
      tf.layers.dense({ inputShape: [dim], units: 16, activation: 'relu', name: 'hidden' }),
    ];
    if (opts.bn ?? true) layers.push(tf.layers.batchNormalization({ name: 'bn' }));
    if (opts.dropout ?? true) layers.push(tf.layers.dropout({ rate: 0.25, name: 'drop' }));
    layers.push(tf.layers.dense({ units: classes, activation: 'softmax', name: 'head' }));
    return tf.sequential({ layers });
  });
}

export function weightValues(model: tf.LayersModel): number[][] {
  return orderedWeights(model).map((o) => Array.from(o.weight.read().dataSync()));
}
