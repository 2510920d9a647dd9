import * as tf from '@tensorflow/tfjs';
import {
  readShards,
  type ImageBatch,
  type ImageShardIndex,
  type ShardSource,
  type Split,
} from '@modelsmith/datasets';
import {
  mixSeed,
  normalizePixels,
  type EpochBatchFactory,
  type Normalization,
  type TrainBatch,
} from '@modelsmith/ml';

export interface BatchShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** Samples of one split. */
export function splitCount(index: ImageShardIndex, split: Split): number {
  return index.samples.filter((s) => s.split === split).length;
}

/** Pixels of a shard batch as normalized model input, resized and channel-matched to `input`. */
export function toInputTensor(
  batch: ImageBatch,
  normalization: Normalization,
  input: BatchShape,
): tf.Tensor4D {
  const [n, h, w, c] = batch.shape;
  return tf.tidy(() => {
    let x: tf.Tensor4D = tf.tensor4d(normalizePixels(batch.pixels, c, normalization), [n, h, w, c]);
    if (c !== input.channels) x = c === 1 ? tf.tile(x, [1, 1, 1, 3]) : tf.mean(x, 3, true);
    if (h !== input.height || w !== input.width) x = tf.image.resizeBilinear(x, [input.height, input.width]);
    return x;
  });
}

/**
 * Samples of one split in index order: sample id `i` of the split's batches is `splitSamples(...)[i]`.
 */
export function splitSamples(index: ImageShardIndex, split: Split): ImageShardIndex['samples'] {
  return index.samples.filter((s) => s.split === split);
}

/**
 * The batches of a split as the trainer's epoch factory: reshuffled per epoch with a seed derived
 * from (run seed, epoch), so a resumed run sees the same batches an uninterrupted one did. Each batch
 * carries sample ids: the sample's position among the split's samples in index order.
 */
export function shardEpochs(
  source: ShardSource,
  index: ImageShardIndex,
  split: Split,
  batch: number,
  normalization: Normalization,
  input: BatchShape,
  shuffle: boolean,
): EpochBatchFactory {
  const count = splitCount(index, split);
  const ordinal = new Int32Array(index.samples.length).fill(-1);
  let next = 0;
  index.samples.forEach((s, i) => {
    if (s.split === split) ordinal[i] = next++;
  });
  const factory = async function* (req: {
    epoch: number;
    startStep: number;
    seed: number;
  }): AsyncGenerator<TrainBatch> {
    let step = 0;
    const shuffleSeed = shuffle ? mixSeed(req.seed, req.epoch) : undefined;
    for await (const b of readShards(source, {
      split,
      batch,
      index,
      ...(shuffleSeed !== undefined ? { shuffleSeed } : {}),
    })) {
      if (step++ < req.startStep) continue;
      yield {
        xs: toInputTensor(b, normalization, input),
        ys: tf.tensor1d(b.labels, 'int32'),
        ids: b.indices.map((i) => ordinal[i]),
      };
    }
  } as EpochBatchFactory;
  factory.stepsPerEpoch = Math.ceil(count / batch);
  factory.size = count;
  return factory;
}

/** Keeps shard files in memory (up to `maxBytes` in all) so epochs after the first read no object store. */
export function cachingShardSource(source: ShardSource, maxBytes: number): ShardSource {
  const cache = new Map<string, Uint8Array>();
  let bytes = 0;
  return {
    get: async (key) => {
      const hit = cache.get(key);
      if (hit) return hit;
      const data = await source.get(key);
      if (bytes + data.byteLength <= maxBytes) {
        cache.set(key, data);
        bytes += data.byteLength;
      }
      return data;
    },
  };
}
