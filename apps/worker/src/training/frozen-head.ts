import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, ShardSource, Split } from '@modelsmith/datasets';
import { arrayBatches, train, type Classifier, type Normalization, type TrainResult } from '@modelsmith/ml';
import { shardEpochs, splitCount, type BatchShape } from './shard-batches';

/** Epochs of a head trained on cached frozen features, at most (early stopping on validation loss). */
export const FEATURE_HEAD_EPOCHS = 60;
/** Epochs without a lower validation loss before the feature head stops (its best epoch is kept). */
export const FEATURE_HEAD_PATIENCE = 10;
/** Images per forward pass of the feature extraction. */
const FEATURE_BATCH = 16;

/** Feature vectors [count x dim] of one split, in the split's index order, and their labels. */
export interface SplitFeatures {
  values: Float32Array;
  labels: Int32Array;
  count: number;
}

/**
 * The backbone's pooled features of every sample of `split` (no augmentation): one forward pass, each
 * sample's vector at its place in the split. Undefined when `signal` aborted the pass.
 */
export async function splitFeatures(
  extractor: tf.LayersModel,
  dim: number,
  shards: ShardSource,
  index: ImageShardIndex,
  split: Split,
  normalization: Normalization,
  input: BatchShape,
  o: { batchSize: number; seed: number; signal?: AbortSignal },
): Promise<SplitFeatures | undefined> {
  const count = splitCount(index, split);
  const values = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  // Inference only, in batches of at most FEATURE_BATCH images (activations at 224 px are large).
  const batches = shardEpochs(
    shards,
    index,
    split,
    Math.min(o.batchSize, FEATURE_BATCH),
    normalization,
    input,
    false,
  );
  for await (const b of batches({ epoch: 0, startStep: 0, seed: o.seed })) {
    try {
      if (o.signal?.aborted) return undefined;
      const f = tf.tidy(() => extractor.predict(b.xs) as tf.Tensor);
      const v = (await f.data()) as Float32Array;
      f.dispose();
      const ys = (await b.ys.data()) as Int32Array;
      (b.ids ?? []).forEach((id, i) => {
        values.set(v.subarray(i * dim, (i + 1) * dim), id * dim);
        labels[id] = ys[i];
      });
    } finally {
      b.xs.dispose();
      b.ys.dispose();
    }
  }
  return { values, labels, count };
}

const featureBatches = (f: SplitFeatures, dim: number, batchSize: number, shuffle: boolean) =>
  arrayBatches({
    count: f.count,
    batchSize,
    shuffle,
    sampleShape: [dim],
    fill: (i, xs, offset) => {
      xs.set(f.values.subarray(i * dim, (i + 1) * dim), offset);
      return f.labels[i];
    },
  });

/**
 * Trains the classifier's head on its frozen pretrained backbone from features computed once: one
 * forward pass over the train and validation splits, then up to `epochs` head epochs on the cached
 * vectors (each costs about as much as a dense layer's pass over them, not a backbone pass), early
 * stopping on validation loss with the best epoch's weights kept. The head layers are the
 * classifier's own (dropout, dense), so the classifier holds the trained head afterwards. This is
 * the frozen-feature baseline of bench/style-shift.ts run by the product; the backbone's input size
 * (the recipe's) is what makes the features good or bad, see docs/training.md.
 */
export async function trainHeadOnFeatures(
  classifier: Classifier,
  data: {
    shards: ShardSource;
    index: ImageShardIndex;
    normalization: Normalization;
    input: BatchShape;
  },
  o: {
    epochs: number;
    learningRate: number;
    batchSize: number;
    labelSmoothing: number;
    seed: number;
    weightDecay?: number;
    signal: AbortSignal;
  },
): Promise<Pick<TrainResult, 'status' | 'history'>> {
  const dim = classifier.features.shape[classifier.features.shape.length - 1] ?? 0;
  const extractor = tf.model({ inputs: classifier.model.inputs, outputs: classifier.features });
  const extract = (split: Split) =>
    splitFeatures(extractor, dim, data.shards, data.index, split, data.normalization, data.input, o);
  const trainSet = await extract('train');
  const hasValidation = splitCount(data.index, 'validation') > 0;
  const validation = trainSet && hasValidation ? await extract('validation') : undefined;
  if (!trainSet || (hasValidation && !validation)) return { status: 'cancelled', history: [] };
  // The classifier's head layers (after the pooling, which the features already include) on a
  // feature input: training this model trains the classifier's head weights.
  const features = tf.input({ shape: [dim] });
  let x: tf.SymbolicTensor = features;
  for (const layer of classifier.headLayers)
    if (layer.getClassName() !== 'GlobalAveragePooling2D') x = layer.apply(x) as tf.SymbolicTensor;
  const head = tf.model({ inputs: features, outputs: x });
  const result = await train(head, {
    data: featureBatches(trainSet, dim, o.batchSize, true),
    ...(validation ? { validation: featureBatches(validation, dim, 256, false) } : {}),
    epochs: o.epochs,
    learningRate: o.learningRate,
    optimizer: o.weightDecay ? { type: 'adamw', weightDecay: o.weightDecay } : { type: 'adam' },
    labelSmoothing: o.labelSmoothing,
    seed: o.seed,
    ...(validation
      ? {
          earlyStopping: {
            monitor: 'val_loss',
            patience: FEATURE_HEAD_PATIENCE,
            restoreBestWeights: true,
          },
        }
      : {}),
    signal: o.signal,
  });
  return { status: result.status, history: result.history };
}
