import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend';

/** Optimizers a data-parallel replica can rebuild from plain data. */
export type OptimizerSpec =
  | { name: 'sgd'; learningRate: number }
  | { name: 'momentum'; learningRate: number; momentum: number; useNesterov?: boolean }
  | { name: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number }
  | { name: 'rmsprop'; learningRate: number; decay?: number; momentum?: number; epsilon?: number };

/**
 * Losses (mean over the batch): `softmaxCrossEntropy` takes logits and one-hot labels,
 * `categoricalCrossentropy` takes probabilities and one-hot labels, `meanSquaredError` anything.
 */
export type LossName = 'softmaxCrossEntropy' | 'categoricalCrossentropy' | 'meanSquaredError';

export interface Batch {
  /** Row-major values; the first dimension of `shape` is the batch. */
  data: Float32Array;
  shape: number[];
}

export interface ReplicaInit {
  artifacts: tf.io.ModelArtifacts;
  optimizer: OptimizerSpec;
  loss: LossName;
  backend: BackendName;
  /** Passed to initBackend in the worker (undefined: its default). */
  nativeBlas?: boolean;
  /** Shared gradient slots: one row of `paramCount` floats per worker. */
  grads: SharedArrayBuffer;
  /**
   * Shared trainable weights (`paramCount` floats, variables back to back): in `apply` each replica
   * writes its range here; every replica sets its variables from here before it next uses them.
   */
  weights: SharedArrayBuffer;
  paramCount: number;
  workerIndex: number;
  workerCount: number;
  /** Module required before the model is loaded (registers custom layers, for example). */
  setupModule?: string;
}

export type ToWorker =
  | { type: 'step'; x: Batch; y: Batch; weight: number }
  | { type: 'apply' }
  | { type: 'setLearningRate'; learningRate: number }
  | { type: 'getWeights' };

export type FromWorker =
  | { type: 'ready'; paramCount: number; backend: string }
  | { type: 'stepped'; loss: number; ms: number }
  | { type: 'applied' }
  | { type: 'weights'; values: Float32Array[] }
  | { type: 'error'; message: string };
