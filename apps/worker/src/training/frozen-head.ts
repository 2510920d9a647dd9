import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, ShardSource, Split } from '@modelsmith/datasets';
import {
  arrayBatches,
  FEATURE_HEAD_VIEWS,
  loopTurns,
  train,
  viewOf,
  type Classifier,
  type EpochBatchFactory,
  type FeatureView,
  type Normalization,
  type Predictions,
  type ReplicaPool,
  type TrainBatch,
  type TrainResult,
} from '@modelsmith/ml';
import { shardEpochs, splitCount, type BatchShape } from './shard-batches';
import type { StageClock } from './stage-clock';

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
 * Threads that compute a layer's output for batches of images while this thread computes others
 * (parallel/ReplicaPool: replicas of the classifier, the backbone's weights included).
 */
export type FeatureReplicas = Pick<ReplicaPool, 'size' | 'features'>;

/** Batches a replica thread may hold at once (one computing, one queued: it never waits for this thread). */
export const REPLICA_QUEUE_DEPTH = 2;

/**
 * The backbone's pooled features of every sample of `split` (no augmentation; `view` shows each image
 * as that view does): one forward pass, each sample's vector at its place in the split. Undefined when
 * `signal` aborted the pass.
 *
 * With `parallel`, the batches are shared out as they are read: each goes to a replica thread that
 * holds fewer than REPLICA_QUEUE_DEPTH batches (fewer than one for the pass's last batches), else
 * this thread computes it (and reads and resizes every batch). The replicas compute `parallel.layer`'s output with the same weights and kernels, so
 * the vectors are those of a pass on one thread (within float rounding). `parallel.pool` may still be
 * starting: this thread computes alone until it is ready (undefined: no replicas). Batches a replica
 * failed on are computed again here after the pass.
 */
export async function splitFeatures(
  extractor: tf.LayersModel,
  dim: number,
  shards: ShardSource,
  index: ImageShardIndex,
  split: Split,
  normalization: Normalization,
  input: BatchShape,
  o: {
    batchSize: number;
    seed: number;
    signal?: AbortSignal;
    view?: FeatureView;
    parallel?: { pool: FeatureReplicas | Promise<FeatureReplicas | undefined>; layer: string };
    /** Called with each batch's rows and whether a replica computed them (tests, measurements). */
    onBatch?: (rows: number, replica: boolean) => void;
    /**
     * Until it settles this thread computes no batch (it still reads them): each waits for a replica
     * thread with room, so the pass runs beside other work of this thread (a head's training). Without
     * replicas (none, or none started) the pass waits for it.
     */
    hold?: Promise<unknown>;
  },
): Promise<SplitFeatures | undefined> {
  const count = splitCount(index, split);
  const totalBatches = Math.ceil(count / Math.min(o.batchSize, FEATURE_BATCH));
  let read = 0;
  const values = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  const filled = new Uint8Array(count);
  const view = o.view ?? 'image';
  let pool: FeatureReplicas | undefined;
  let poolSettled = !o.parallel;
  const poolReady = o.parallel
    ? Promise.resolve(o.parallel.pool).then(
        (p) => void (pool = p && p.size > 0 ? p : undefined),
        () => undefined,
      )
    : Promise.resolve();
  void poolReady.finally(() => (poolSettled = true));
  let held = o.hold !== undefined;
  const released = (o.hold ?? Promise.resolve()).then(
    () => void (held = false),
    () => void (held = false),
  );
  const layer = o.parallel?.layer ?? '';
  const queued: number[] = [];
  const synced = new Set<number>();
  const inflight = new Set<Promise<void>>();
  let replicaFailed = false;
  const place = (v: Float32Array, ids: Int32Array, ys: Int32Array) => {
    for (let i = 0; i < ids.length; i++) {
      values.set(v.subarray(i * dim, (i + 1) * dim), ids[i] * dim);
      labels[ids[i]] = ys[i];
      filled[ids[i]] = 1;
    }
  };
  const computeHere = async (x: tf.Tensor) => {
    const f = tf.tidy(() => extractor.predict(x) as tf.Tensor);
    const v = (await f.data()) as Float32Array;
    f.dispose();
    return v;
  };
  // Inference only, in batches of at most FEATURE_BATCH images (activations at 224 px are large).
  const batches = () =>
    shardEpochs(
      shards,
      index,
      split,
      Math.min(o.batchSize, FEATURE_BATCH),
      normalization,
      input,
      false,
    )({
      epoch: 0,
      startStep: 0,
      seed: o.seed,
    });
  let cancelled = false;
  // With replicas a turn on every batch (loopTurns(0)), else one every YIELD_MS.
  const turn = o.parallel ? loopTurns(0) : loopTurns();
  for await (const b of batches()) {
    let x: tf.Tensor | undefined;
    try {
      if (o.signal?.aborted) {
        cancelled = true;
        break;
      }
      x = view === 'image' ? b.xs : viewOf(b.xs as tf.Tensor4D, view, normalization);
      const ys = Int32Array.from((await b.ys.data()) as Int32Array);
      const ids = Int32Array.from(b.ids ?? []);
      // One turn of the event loop per batch: the messages that arrived while this thread computed
      // (a replica's replies, its start-up's "ready") are handled; without it a pass whose reads
      // resolve without I/O would never see the pool start or a replica free up. Without replicas,
      // a turn every YIELD_MS (the whole pass held the worker's loop for up to 3.4 s at once).
      await turn();
      read++;
      // The pass's last batches go to a replica only when it holds none: one queued behind another
      // there would keep this thread waiting at the end (unless this thread is busy elsewhere, held).
      const depth = held || totalBatches - read >= REPLICA_QUEUE_DEPTH ? REPLICA_QUEUE_DEPTH : 1;
      const free = () =>
        pool ? [...Array(pool.size).keys()].find((r) => (queued[r] ?? 0) < depth) : undefined;
      let replica = free();
      // Held: wait for a replica with room (or the pool's start), or for the hold's end.
      while (held && replica === undefined) {
        await Promise.race([released, ...(pool ? inflight : poolSettled ? [] : [poolReady])]);
        replica = free();
      }
      if (pool && replica !== undefined) {
        const data = (await x.data()) as Float32Array;
        queued[replica] = (queued[replica] ?? 0) + 1;
        const p = pool
          .features({
            replica,
            // The wasm backend's data() is a copy, the cpu backend's the tensor's own array.
            x: { data: tf.getBackend() === 'wasm' ? data : data.slice(), shape: x.shape },
            layer,
            weights: !synced.has(replica),
          })
          .then(
            (r) => place(r.values, ids, ys),
            () => void (replicaFailed = true),
          )
          .finally(() => {
            queued[replica]--;
            inflight.delete(p);
          });
        synced.add(replica);
        inflight.add(p);
        o.onBatch?.(ids.length, true);
      } else {
        place(await computeHere(x), ids, ys);
        o.onBatch?.(ids.length, false);
      }
    } finally {
      if (x && x !== b.xs) x.dispose();
      b.xs.dispose();
      b.ys.dispose();
    }
  }
  await Promise.all([...inflight]);
  if (cancelled) return undefined;
  if (replicaFailed) {
    // A replica failed (its thread died, ran out of memory): its batches again, on this thread.
    for await (const b of batches()) {
      try {
        if (o.signal?.aborted) return undefined;
        const ids = Int32Array.from(b.ids ?? []);
        if (ids.every((id) => filled[id])) continue;
        const x = view === 'image' ? b.xs : viewOf(b.xs as tf.Tensor4D, view, normalization);
        try {
          place(await computeHere(x), ids, (await b.ys.data()) as Int32Array);
        } finally {
          if (x !== b.xs) x.dispose();
        }
      } finally {
        b.xs.dispose();
        b.ys.dispose();
      }
    }
  }
  return { values, labels, count };
}

/**
 * `source`'s batches, each after one turn of the event loop: the head's training, whose steps
 * otherwise await only promises already resolved, lets this thread's other work run between its
 * steps (a prefetched pass's reads and the replies of its replica threads).
 */
export function turning(source: EpochBatchFactory): EpochBatchFactory {
  const f: EpochBatchFactory = (req) =>
    (async function* () {
      const it = (source(req) as Iterable<TrainBatch>)[Symbol.iterator]();
      for (;;) {
        await new Promise((r) => setImmediate(r));
        const next = it.next();
        if (next.done) return;
        yield next.value;
      }
    })();
  if (source.stepsPerEpoch !== undefined) f.stepsPerEpoch = source.stepsPerEpoch;
  if (source.size !== undefined) f.size = source.size;
  return f;
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

/** Features of several passes as one set: the samples of each part, in order. */
function concatFeatures(parts: SplitFeatures[]): SplitFeatures {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const values = new Float32Array(parts.reduce((n, p) => n + p.values.length, 0));
  const labels = new Int32Array(count);
  let v = 0;
  let l = 0;
  for (const p of parts) {
    values.set(p.values, v);
    labels.set(p.labels, l);
    v += p.values.length;
    l += p.count;
  }
  return { values, labels, count };
}

/**
 * Trains the classifier's head on its frozen pretrained backbone from features computed once: one
 * forward pass over the train split per view of FEATURE_HEAD_VIEWS (each view's vectors are training
 * samples; no gray view for a grayscale dataset) and one over the validation split, then up to `epochs` head epochs on the cached
 * vectors (each costs about as much as a dense layer's pass over them, not a backbone pass), early
 * stopping on validation loss with the best epoch's weights kept. The head layers are the
 * classifier's own (dropout, dense), so the classifier holds the trained head afterwards. With the
 * last layer's features this is the frozen-feature baseline of bench/style-shift.ts run by the
 * product; with joined multi-layer features (a Concatenate head layer) the features are standardized
 * for training and the scaling folded into the dense layer. The backbone's input size (the recipe's)
 * and the layers read are what make the features good or bad, see docs/training.md.
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
    /** The train views (default FEATURE_HEAD_VIEWS); `image` alone costs one pass instead of three. */
    views?: readonly FeatureView[];
    /** False: train all `epochs` (the validation loss only recorded); default true (early stopping). */
    earlyStopping?: boolean;
    /**
     * Replica threads that compute a share of every feature pass (splitFeatures' `parallel`; may
     * still be starting). Without them this thread computes every pass.
     */
    replicas?: FeatureReplicas | Promise<FeatureReplicas | undefined>;
    /** Times the feature passes (`features`) and the head's training (`head`). */
    clock?: StageClock;
    /**
     * Validation views whose feature passes the replica threads compute while this thread trains the
     * head (`hold` of splitFeatures; this thread joins them when the head is trained), for
     * `validationPredictions` of the same views. Only with `replicas`.
     */
    prefetchViews?: readonly FeatureView[];
  },
): Promise<HeadOnFeaturesResult> {
  const time = <T>(stage: string, fn: () => Promise<T>) => (o.clock ? o.clock.time(stage, fn) : fn());
  const dim = classifier.features.shape[classifier.features.shape.length - 1] ?? 0;
  const extractor = tf.model({ inputs: classifier.model.inputs, outputs: classifier.features });
  const featureLayer = classifier.features.sourceLayer.name;
  const extract = (
    split: Split,
    view: FeatureView,
    /** Undefined: a pass no signal stops (not `o.signal`). */
    signal: AbortSignal | undefined,
    hold?: Promise<unknown>,
  ) =>
    splitFeatures(extractor, dim, data.shards, data.index, split, data.normalization, data.input, {
      batchSize: o.batchSize,
      seed: o.seed,
      signal,
      view,
      ...(o.replicas ? { parallel: { pool: o.replicas, layer: featureLayer } } : {}),
      ...(hold ? { hold } : {}),
    });
  const views: SplitFeatures[] = [];
  // A grayscale dataset's gray view is the image itself: no second pass for it.
  for (const view of (o.views ?? FEATURE_HEAD_VIEWS).filter(
    (v) => v !== 'gray' || data.index.channels === 3,
  )) {
    const f = await time('features', () => extract('train', view, o.signal));
    if (!f) return { status: 'cancelled', history: [] };
    views.push(f);
  }
  const trainSet = concatFeatures(views);
  const hasValidation = splitCount(data.index, 'validation') > 0;
  const validation = hasValidation
    ? await time('features', () => extract('validation', 'image', o.signal))
    : undefined;
  if (hasValidation && !validation) return { status: 'cancelled', history: [] };
  // Features joined from several layers differ in scale by layer: the head trains on them
  // standardized (the train rows' mean and deviation), folded into its dense layer afterwards.
  const joined = classifier.headLayers.some((l) => l.getClassName() === 'Concatenate');
  // The validation vectors as the model computes them (before any scaling), for its evaluation.
  const rawValidation =
    validation && joined ? { ...validation, values: validation.values.slice() } : validation;
  const scaling = joined ? standardize(trainSet, dim) : undefined;
  if (scaling && validation) scaling.apply(validation);
  // The classifier's head layers (after the pooling and joining, which the features already
  // include) on a feature input: training this model trains the classifier's head weights.
  const features = tf.input({ shape: [dim] });
  let x: tf.SymbolicTensor = features;
  for (const layer of classifier.headLayers)
    if (!['GlobalAveragePooling2D', 'Concatenate'].includes(layer.getClassName()))
      x = layer.apply(x) as tf.SymbolicTensor;
  const head = tf.model({ inputs: features, outputs: x });
  // The validation views' passes, started now on the replica threads only (this thread trains the
  // head meanwhile, then joins them); one view after the other. Stopped if the training is cancelled
  // (a run the budget stopped computes them again for its evaluation).
  let headTrained!: () => void;
  const hold = new Promise<void>((r) => (headTrained = r));
  const stopPrefetch = new AbortController();
  const prefetched = new Map<FeatureView, Promise<SplitFeatures | undefined>>();
  if (rawValidation && o.replicas) {
    let previous: Promise<unknown> = Promise.resolve();
    for (const view of o.prefetchViews ?? []) {
      const pass = previous.then(() => extract('validation', view, stopPrefetch.signal, hold));
      // Awaited (or dropped) by validationPredictions; a failed pass is computed again there.
      pass.catch(() => undefined);
      prefetched.set(view, pass);
      previous = pass.catch(() => undefined);
    }
  }
  const trained = time('head', () =>
    train(head, {
      data:
        prefetched.size > 0
          ? turning(featureBatches(trainSet, dim, o.batchSize, true))
          : featureBatches(trainSet, dim, o.batchSize, true),
      ...(validation ? { validation: featureBatches(validation, dim, 256, false) } : {}),
      epochs: o.epochs,
      learningRate: o.learningRate,
      optimizer: o.weightDecay ? { type: 'adamw', weightDecay: o.weightDecay } : { type: 'adam' },
      labelSmoothing: o.labelSmoothing,
      seed: o.seed,
      ...(validation && o.earlyStopping !== false
        ? {
            earlyStopping: {
              monitor: 'val_loss',
              patience: FEATURE_HEAD_PATIENCE,
              restoreBestWeights: true,
            },
          }
        : {}),
      signal: o.signal,
    }),
  );
  const dropPrefetched = async () => {
    stopPrefetch.abort();
    headTrained();
    await Promise.allSettled(prefetched.values());
    prefetched.clear();
  };
  let result: Awaited<typeof trained>;
  try {
    result = await trained;
  } catch (error) {
    await dropPrefetched();
    throw error;
  } finally {
    headTrained();
  }
  if (result.status === 'cancelled') await dropPrefetched();
  if (scaling) scaling.fold(classifier.headLayers);
  const predict = (f: SplitFeatures): Float32Array =>
    tf.tidy(
      () => (head.predict(tf.tensor2d(f.values, [f.count, dim])) as tf.Tensor).dataSync() as Float32Array,
    );
  const validationPredictions = rawValidation
    ? async (views: readonly FeatureView[]) => {
        // The trained head on the cached vectors is the model's last layers on its own backbone
        // pass: the image's probabilities without another pass; one pass per other view.
        const parts = [predict(rawValidation)];
        for (const view of views) {
          // Not cancelled by the signal: a run the budget stopped is evaluated after the abort.
          const f =
            (await prefetched.get(view)?.catch(() => undefined)) ??
            (await extract('validation', view, undefined));
          if (!f) return undefined;
          parts.push(predict(f));
        }
        const numClasses = parts[0].length / Math.max(1, rawValidation.count);
        const averaged = new Float32Array(parts[0].length);
        for (const part of parts) for (let i = 0; i < part.length; i++) averaged[i] += part[i];
        if (parts.length > 1) for (let i = 0; i < averaged.length; i++) averaged[i] /= parts.length;
        const labels = rawValidation.labels;
        return {
          plain: { numClasses, probs: parts[0], labels },
          averaged: { numClasses, probs: parts.length > 1 ? averaged : parts[0], labels },
        };
      }
    : undefined;
  return {
    status: result.status,
    history: result.history,
    ...(validationPredictions ? { validationPredictions } : {}),
  };
}

/** What trainHeadOnFeatures returns: the training's status and history, and the head's validation predictions. */
export interface HeadOnFeaturesResult extends Pick<TrainResult, 'status' | 'history'> {
  /**
   * The trained model's validation predictions from the cached validation vectors (no backbone pass
   * for the image itself) and averaged with `views` (one feature pass over the validation split
   * each): what collectViewPredictions gives for the model, within float rounding. Undefined when
   * the split has no validation images; the function gives undefined when the run was cancelled.
   * Call it before the model's weights change.
   */
  validationPredictions?: (
    views: readonly FeatureView[],
  ) => Promise<{ plain: Predictions; averaged: Predictions } | undefined>;
}

/**
 * Standardizes the columns of `f` in place (mean 0, deviation 1 over its rows; a constant column is
 * only centred) and returns how to do the same to other features and how to fold the scaling into
 * the dense layer that was trained on standardized features: W' = W / sd, b' = b - (mean / sd) W.
 */
export function standardize(f: SplitFeatures, dim: number) {
  const mean = new Float64Array(dim);
  const sd = new Float64Array(dim);
  const { values, count } = f;
  for (let r = 0; r < count; r++) for (let d = 0; d < dim; d++) mean[d] += values[r * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= Math.max(1, count);
  for (let r = 0; r < count; r++) for (let d = 0; d < dim; d++) sd[d] += (values[r * dim + d] - mean[d]) ** 2;
  for (let d = 0; d < dim; d++) sd[d] = Math.sqrt(sd[d] / Math.max(1, count)) || 1;
  const apply = (g: SplitFeatures) => {
    for (let r = 0; r < g.count; r++)
      for (let d = 0; d < dim; d++) g.values[r * dim + d] = (g.values[r * dim + d] - mean[d]) / sd[d];
  };
  apply(f);
  const fold = (headLayers: tf.layers.Layer[]) => {
    const dense = headLayers.filter((l) => l.getClassName() === 'Dense').at(-1);
    if (!dense) return;
    const [kernel, bias] = dense.getWeights();
    const units = kernel.shape[1] ?? 0;
    const w = kernel.dataSync();
    const b = Float32Array.from(bias.dataSync());
    const w2 = new Float32Array(w.length);
    for (let d = 0; d < dim; d++)
      for (let k = 0; k < units; k++) {
        w2[d * units + k] = w[d * units + k] / sd[d];
        b[k] -= (mean[d] / sd[d]) * w[d * units + k];
      }
    const next = [tf.tensor2d(w2, [dim, units]), tf.tensor1d(b)];
    dense.setWeights(next);
    tf.dispose(next);
  };
  return { apply, fold };
}
