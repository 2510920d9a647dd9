import type * as tf from '@tensorflow/tfjs';
import type { AugmentFn } from './augment-hook';
import type { DataSource } from './batches';
import type { CheckpointStore } from './checkpoint';
import type { DynamicsValues } from './dynamics';
import type { LayerSelector } from './layers';
import type { OptimizerConfig } from './optimizers';
import type { WeightRegularizer } from './regularizers';
import type { LrSchedule } from './schedules';
import type { EpochLog, TrainPosition, TrainStatus } from './types';

/** What {@link train} takes and returns. */

/** Weights chosen by layer, trained with their own learning-rate scale and weight decay. */
export interface ParamGroup {
  name: string;
  layers: LayerSelector;
  /** Multiplier of the (scheduled) learning rate, e.g. 0.1 for a pretrained backbone. Default 1. */
  lrScale?: number;
  /** Weight decay for this group's kernels (biases and normalisation parameters are never decayed). */
  weightDecay?: number;
}

export interface EarlyStoppingOptions {
  /** Metric of the epoch log to watch: 'val_loss' (default with validation data), 'val_accuracy', 'loss', 'accuracy'. */
  monitor?: 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy';
  /** 'min' for losses, 'max' for accuracies (default from the monitor's name). */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping. Default 3. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** At the end of training, put back the weights of the best epoch. Default true. */
  restoreBestWeights?: boolean;
}

export interface CheckpointOptions {
  store: CheckpointStore;
  /** Key of this run's checkpoint in the store (overwritten by each save). */
  key: string;
  /** Save every N global steps (in addition to epoch ends). */
  everySteps?: number;
  /** Save every N epochs (default 1). 0 disables epoch-end saves. */
  everyEpochs?: number;
  /** Save when cancelled (default true). */
  onCancel?: boolean;
  /** Continue from the checkpoint under `key` if there is one (default true). */
  resume?: boolean;
}

export interface TrainProgress {
  /** 'step' during an epoch, 'epoch' once an epoch (with validation) is done. */
  kind: 'step' | 'epoch';
  epoch: number;
  epochs: number;
  /** Steps done in this epoch. */
  step: number;
  stepsPerEpoch?: number;
  globalStep: number;
  totalSteps?: number;
  /** Mean training loss over this epoch so far. */
  loss: number;
  /** accuracy (this epoch so far); at 'epoch' also val_loss / val_accuracy when there is validation data. */
  metrics: Record<string, number>;
  /** Base learning rate of the last step (before group scales). */
  lr: number;
  samplesPerSec: number;
  /** Estimated seconds to the end of the run, when the run length is known. */
  etaSeconds?: number;
  elapsedSeconds: number;
}

export interface TrainOptions {
  data: DataSource;
  epochs: number;
  /**
   * Transforms each training batch's inputs before its step (never the validation batches). It gets
   * (run seed, epoch, step) and should draw its randomness from those only, so a resumed run replays it.
   */
  augment?: AugmentFn;
  /** Held-out batches evaluated after every epoch (inference mode). */
  validation?: DataSource;
  /** Default { type: 'adam' }. */
  optimizer?: OptimizerConfig;
  /** Base learning rate. Default 1e-3. */
  learningRate?: number;
  /** Default constant. */
  lrSchedule?: LrSchedule;
  /** Weights not chosen by any group form the default group (scale 1). First matching group wins. */
  paramGroups?: ParamGroup[];
  /** Make layers trainable at the start of an epoch (gradual unfreezing). */
  unfreeze?: Array<{ epoch: number; layers: LayerSelector }>;
  /** A weight penalty (e.g. {@link l2sp}) whose gradients join the loss's before clipping. */
  regularizer?: WeightRegularizer;
  /** Clip gradients by their global L2 norm. */
  clipGradNorm?: number;
  /** Label smoothing epsilon for the built-in cross-entropy. */
  labelSmoothing?: number;
  /** What the model outputs (built-in loss). Default 'probabilities' (softmax head). */
  outputs?: 'probabilities' | 'logits';
  /** Custom loss (replaces the built-in cross-entropy; label smoothing is then up to it). */
  loss?: (ys: tf.Tensor, output: tf.Tensor) => tf.Scalar;
  /** Seeds data order (through the data source) and every random op in training steps (dropout...). Default 0. */
  seed?: number;
  earlyStopping?: EarlyStoppingOptions;
  checkpoint?: CheckpointOptions;
  /** Stops at the next step boundary; the result then has status 'cancelled'. */
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void | Promise<void>;
  /** Report 'step' progress every N steps (default 10; 0 = only at epoch ends). */
  progressEverySteps?: number;
  /**
   * Compute each step in slices of at most this many samples, accumulating their gradients into one
   * update (same result as the whole batch, less memory). 'auto': measure the first step's memory and
   * use the largest slice that fits the backend (see memory.ts). Either way a step that runs out of
   * memory is retried with slices half as large. Default: the whole batch.
   */
  microBatch?: number | 'auto';
  /**
   * Record training dynamics (each sample's assigned-label probability and margin at every epoch,
   * from the training step's own forward pass; see dynamics.ts). Every training batch must then
   * carry `ids` in 0..samples-1. The result's `dynamics` holds them; checkpoints keep them.
   */
  dynamics?: { samples: number };
  /** Told when the micro-batch is chosen by the memory probe or halved after running out of memory. */
  onMemory?: (event: MemoryEvent) => void | Promise<void>;
  /**
   * Other threads that compute part of every step's gradients (data parallelism, e.g. a
   * `ReplicaPool` of this model from `@modelsmith/ml`'s parallel module). The batch is split between
   * this thread and them (evenly, or by their measured speeds: {@link StepReplicas.split}); their
   * gradients are summed with this thread's and everything else (regularizer, clipping, optimizer and
   * its state, schedule, groups, checkpoints, validation) stays this loop's. Needs the built-in loss.
   */
  replicas?: StepReplicas;
}

/** One replica's share of a step: its rows of the batch, and its share of the whole batch. */
export interface ReplicaShard {
  x: { data: Float32Array; shape: number[] };
  y: { data: Float32Array; shape: number[] };
  /** rows / batch rows: the replica scales its loss and gradients by it. */
  weight: number;
}

/** What {@link TrainOptions.replicas} must do: implemented by parallel/ReplicaPool. */
export interface StepReplicas {
  /** Replica threads (the training thread computes a share too). */
  readonly size: number;
  /**
   * How a batch's rows are shared out: 'even' (default; the same rows for every run, so a run with
   * dropout or batch statistics replays exactly), or 'measured': in proportion to each thread's
   * measured milliseconds per row (wall clock, averaged over the steps so far), so that this thread,
   * which also prepares the batches and applies the update, gets fewer rows and no thread waits.
   */
  readonly split?: 'even' | 'measured';
  /**
   * Computes the gradients of the shards (one per replica; fewer when the batch is small) with the
   * model's current weights, for `trainable` (weights by position in `orderedWeights(model)`), and
   * resolves with their sum as one flat array (those weights back to back, in that order), the summed
   * weighted loss and the correct count. `grads` may be a view of memory the next call overwrites:
   * read it before calling again.
   */
  gradients(req: {
    trainable: number[];
    shards: ReplicaShard[];
    loss: { outputs?: 'probabilities' | 'logits'; labelSmoothing?: number };
    /** Seeds the random ops (dropout) of this step on the replicas. */
    seed: number;
    microBatch?: number;
    /** Also return the shards' outputs of their forward passes (training dynamics). */
    outputs?: boolean;
  }): Promise<{
    grads: Float32Array;
    loss: number;
    correct: number;
    /** With `outputs`: the shards' outputs, [rows x classes] row-major, in shard order. */
    outputs?: Float32Array;
    /** Wall-clock milliseconds each replica spent on its shard (for the 'measured' split). */
    ms?: number[];
  }>;
}

/** How the trainer fitted a step into memory. */
export interface MemoryEvent {
  /** 'probe': measured at the first step; 'out-of-memory': a step failed and is retried smaller. */
  kind: 'probe' | 'out-of-memory';
  /** Samples in the batch. */
  batch: number;
  /** Samples per slice from now on. */
  microBatch: number;
  /** Bytes a step's peak may take on this backend. */
  budgetBytes: number;
  /** With 'probe': the measured memory model, peak = fixed + microBatch x perSample. */
  fixedBytes?: number;
  perSampleBytes?: number;
}

export interface TrainResult {
  status: TrainStatus;
  /** Where the run stands (the next step to run). */
  position: TrainPosition;
  history: EpochLog[];
  best?: { epoch: number; monitor: string; value: number };
  restoredBestWeights: boolean;
  /** Position the run started from, when it resumed from a checkpoint. */
  resumedFrom?: TrainPosition;
  /** Whether a checkpoint was written by this call. */
  checkpointSaved: boolean;
  /** Wall time of this call and its training throughput. */
  seconds: number;
  samplesPerSec: number;
  /** With `opts.dynamics`: what was recorded, over every epoch of the run (resumed ones included). */
  dynamics?: DynamicsValues;
  /** Samples per slice the steps ended up computed in, when smaller than the batch (or set by the caller). */
  microBatch?: number;
}
