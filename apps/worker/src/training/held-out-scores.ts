import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, ShardSource } from '@modelsmith/datasets';
import { crossFitScores, type CrossFitScores, type Normalization } from '@modelsmith/ml';
import { splitFeatures } from './frozen-head';
import { splitCount, type BatchShape } from './shard-batches';

/** Most feature values held for cross-fitting (64 Mi floats, 256 MiB); larger train splits skip it. */
export const MAX_CROSS_FIT_VALUES = 64 * 2 ** 20;
/** Neighbours whose label votes join the fold models' held-out probabilities (crossFitScores' `neighbours`). */
export const HELD_OUT_NEIGHBOURS = 10;
/**
 * Fold assignments whose held-out probabilities are averaged (crossFitScores' `repeats`): 3 ranked
 * injected flips better than 1 on the tuning settings of bench/mislabel-rotate.ts (docs/interpretability.md)
 * at three times the fold models' CPU.
 */
export const HELD_OUT_REPEATS = 3;
/**
 * The fold models' generalized cross-entropy q (crossFitScores' `gce`, Zhang & Sabuncu 2018): rows the
 * model finds unlikely, often the wrong labels, pull the fit less. With the neighbour weight below it
 * ranked injected flips better than cross-entropy on the tuning settings of bench/mislabel-rotate.ts
 * (docs/interpretability.md). Fitted from zero weights (`gceFromZero`): the same ranking (AUROC 0.9490
 * vs 0.9489 from the cross-entropy solution on the 8 tuning settings) for 0.61-0.64 of the CPU.
 */
export const HELD_OUT_GCE = 0.7;
/** The neighbour votes' weight in the held-out probabilities (crossFitScores' `neighbourWeight`). */
export const HELD_OUT_NEIGHBOUR_WEIGHT = 0.3;
/**
 * Most multiply-adds (n^2 x dim) spent on the neighbour votes (2^35: about a minute of one core);
 * larger splits get the fold models' opinion alone.
 */
export const MAX_NEIGHBOUR_WORK = 2 ** 35;
/** Fewest train samples worth cross-fitting (4 folds of at least 5). */
export const MIN_CROSS_FIT_SAMPLES = 20;

/**
 * Held-out label scores of the train split for the label-quality report: feature vectors of every
 * train sample (no augmentation) from `extractor` — the pretrained backbone before training starts,
 * so no sample's possibly wrong label has shaped its own features; the worker passes the multi-layer
 * extractor (multiLayerFeatureExtractor) with `standardize` for MobileNetV2 —
 * and of their mirror images, then {@link crossFitScores}: 4 folds, an L2-regularized logistic
 * regression per fold fitted by L-BFGS (l2 = 1, generalized cross-entropy HELD_OUT_GCE) on both views
 * of its samples, a held-out sample's probabilities averaged over its two views and over
 * HELD_OUT_REPEATS fold assignments, then mixed (HELD_OUT_NEIGHBOUR_WEIGHT) with the label votes of its
 * HELD_OUT_NEIGHBOURS nearest samples (the setup measured in bench/mislabel-detect.ts
 * and bench/mislabel-rotate.ts, docs/interpretability.md).
 * Undefined when the split is too small or its features too large to hold.
 */
export async function heldOutScores(
  extractor: tf.LayersModel,
  shards: ShardSource,
  index: ImageShardIndex,
  normalization: Normalization,
  input: BatchShape,
  o: {
    batchSize: number;
    seed: number;
    signal?: AbortSignal;
    standardize?: boolean;
    /** 'light': the image view only and one fold assignment (a search's bounded pass); default 'full'. */
    form?: 'full' | 'light';
  },
): Promise<CrossFitScores | undefined> {
  const light = o.form === 'light';
  const n = splitCount(index, 'train');
  const shape = extractor.outputs[0].shape;
  const dim = shape[shape.length - 1] ?? 0;
  if (n < MIN_CROSS_FIT_SAMPLES || dim <= 0 || n * dim > MAX_CROSS_FIT_VALUES) return undefined;
  const f = await splitFeatures(extractor, dim, shards, index, 'train', normalization, input, o);
  if (!f) return undefined;
  // The mirror view doubles the values held; a split too large for both is scored on the image alone.
  const mirror =
    !light && 2 * n * dim <= MAX_CROSS_FIT_VALUES
      ? await splitFeatures(extractor, dim, shards, index, 'train', normalization, input, {
          ...o,
          view: 'mirror',
        })
      : undefined;
  if (o.signal?.aborted) return undefined;
  return crossFitScores(f.values, f.labels, index.labels.length, {
    folds: 4,
    head: 'logistic',
    l2: 1,
    gce: HELD_OUT_GCE,
    gceFromZero: true,
    seed: o.seed,
    repeats: light ? 1 : HELD_OUT_REPEATS,
    standardize: o.standardize ?? false,
    views: mirror ? [mirror.values] : [],
    neighbours: n * n * dim <= MAX_NEIGHBOUR_WORK ? HELD_OUT_NEIGHBOURS : 0,
    neighbourWeight: HELD_OUT_NEIGHBOUR_WEIGHT,
  });
}
