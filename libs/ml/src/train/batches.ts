import * as tf from '@tensorflow/tfjs';
import { mixSeed, seededPermutation } from './rng';

/** One mini-batch. `ys` holds class indices ([batch], int32) or one-hot rows ([batch, classes]). */
export interface TrainBatch {
  xs: tf.Tensor;
  ys: tf.Tensor;
  /**
   * Stable id of each sample (0..size-1, the same sample the same id in every epoch): needed for
   * training dynamics (`TrainOptions.dynamics`), ignored otherwise.
   */
  ids?: Int32Array;
}

export type BatchIterable = AsyncIterable<TrainBatch> | Iterable<TrainBatch>;

/** What the trainer tells a data source when it asks for an epoch's batches. */
export interface EpochRequest {
  /** 0-based epoch number. */
  epoch: number;
  /** Index of the first batch wanted (> 0 when resuming mid-epoch). */
  startStep: number;
  /** The run's seed; shuffle with a seed derived from (seed, epoch) to be resumable. */
  seed: number;
}

/**
 * A factory of batches per epoch. It must yield the batches of `req.epoch` starting at batch
 * `req.startStep`, and the same batches for the same request (so a resumed run sees the data an
 * uninterrupted one saw). The trainer disposes every batch it receives.
 */
export interface EpochBatchFactory {
  (req: EpochRequest): BatchIterable;
  /** Batches per epoch when known in advance (enables ETA and cosine/linear schedules without totalSteps). */
  stepsPerEpoch?: number;
  /** Samples per epoch when known. */
  size?: number;
}

/**
 * Training data: an epoch factory (preferred), or a re-iterable (`[Symbol.asyncIterator]()` returns
 * a fresh iterator each epoch; the trainer skips already-seen batches when resuming).
 */
export type DataSource = EpochBatchFactory | BatchIterable;

function isIterable(x: unknown): x is BatchIterable {
  return (
    x != null &&
    (typeof (x as AsyncIterable<TrainBatch>)[Symbol.asyncIterator] === 'function' ||
      typeof (x as Iterable<TrainBatch>)[Symbol.iterator] === 'function')
  );
}

export function stepsPerEpochOf(source: DataSource): number | undefined {
  return typeof source === 'function' ? source.stepsPerEpoch : undefined;
}

/**
 * The batches of one epoch starting at `startStep`. Sources that cannot start mid-epoch are
 * skipped forward (their skipped batches are disposed).
 */
export async function* epochBatches(source: DataSource, req: EpochRequest): AsyncGenerator<TrainBatch> {
  let iterable: BatchIterable;
  let toSkip = 0;
  if (typeof source === 'function' && !isIterable(source)) {
    iterable = source(req);
  } else {
    iterable = source as BatchIterable;
    toSkip = req.startStep;
  }
  for await (const b of iterable as AsyncIterable<TrainBatch>) {
    if (toSkip > 0) {
      toSkip--;
      b.xs.dispose();
      b.ys.dispose();
      continue;
    }
    yield b;
  }
}

/**
 * Batches over samples held in plain typed arrays (not tensors): each batch's tensors are made
 * when it is requested. Shuffles per epoch with a seed derived from the run seed and the epoch, and
 * supports starting mid-epoch, so it is a resumable {@link EpochBatchFactory}.
 */
export function arrayBatches(opts: {
  /** Number of samples. */
  count: number;
  batchSize: number;
  /** Writes sample `index`'s features into `xs` at `offset` and returns its label. */
  fill: (index: number, xs: Float32Array, offset: number, req: EpochRequest) => number;
  /** Shape of one sample's features, e.g. [28, 28, 1]. */
  sampleShape: number[];
  shuffle?: boolean;
  /** Keep a smaller last batch (default true). */
  keepRemainder?: boolean;
  /** Order of the samples for one epoch (default: seeded shuffle or identity). */
  order?: (epoch: number, seed: number) => ArrayLike<number>;
}): EpochBatchFactory {
  const { count, batchSize, sampleShape } = opts;
  if (!(batchSize > 0)) throw new RangeError('batchSize must be > 0');
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const keep = opts.keepRemainder ?? true;
  const steps = keep ? Math.ceil(count / batchSize) : Math.floor(count / batchSize);
  const factory: EpochBatchFactory = (req: EpochRequest) => {
    const order = opts.order
      ? opts.order(req.epoch, req.seed)
      : opts.shuffle
        ? seededPermutation(count, mixSeed(req.seed, req.epoch))
        : null;
    return (function* () {
      for (let step = req.startStep; step < steps; step++) {
        const start = step * batchSize;
        const n = Math.min(batchSize, count - start);
        const xs = new Float32Array(n * sampleSize);
        const ys = new Int32Array(n);
        const ids = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const idx = order ? order[start + i] : start + i;
          ids[i] = idx;
          ys[i] = opts.fill(idx, xs, i * sampleSize, req);
        }
        yield { xs: tf.tensor(xs, [n, ...sampleShape], 'float32'), ys: tf.tensor1d(ys, 'int32'), ids };
      }
    })();
  };
  factory.stepsPerEpoch = steps;
  factory.size = keep ? count : steps * batchSize;
  return factory;
}
