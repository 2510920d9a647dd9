import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend';
import type { ReplicaShard } from '../train/options';

/** What a gradient replica thread starts from (see ReplicaPool). */
export interface GradientReplicaInit {
  artifacts: tf.io.ModelArtifacts;
  backend: BackendName;
  nativeBlas?: boolean;
  blasCore?: string;
  /** Names of the layers whose BatchNormalization runs in inference mode while training. */
  batchNormInference: string[];
  /**
   * All weights of the model (orderedWeights order, back to back), written by the training thread
   * before each step; the replica sets its model from them, so it computes with exactly its weights.
   */
  weights: SharedArrayBuffer;
  /** This replica's gradient row (as many floats as `weights`). */
  grads: SharedArrayBuffer;
  /** Float offset of each weight in `weights` (and of its gradient in `grads`). */
  offsets: number[];
  workerIndex: number;
  setupModule?: string;
}

export interface GradientStep {
  type: 'gradients';
  shard: ReplicaShard;
  trainable: number[];
  loss: { outputs?: 'probabilities' | 'logits'; labelSmoothing?: number };
  seed: number;
  microBatch?: number;
  /** Also send back the shard's outputs of this forward pass (training dynamics). */
  outputs?: boolean;
}

/**
 * The output of layer `layer` of the replica's model for the images `x` (inference: dropout off, batch
 * norm on its moving statistics), e.g. the pooled features a head trains on. With `weights` the
 * replica first sets every weight from the training thread's published values.
 */
export interface FeatureRequest {
  type: 'features';
  x: { data: Float32Array; shape: number[] };
  layer: string;
  weights: boolean;
}

export type ToGradientReplica = GradientStep | FeatureRequest;

export type FromGradientReplica =
  | { type: 'ready'; backend: string }
  | {
      type: 'gradients';
      loss: number;
      correct: number;
      /** Wall-clock milliseconds of the step in the replica (the pool balances shares by it). */
      ms: number;
      /** With `outputs`: the shard's outputs [rows x classes], row-major. */
      outputs?: Float32Array;
    }
  | {
      type: 'features';
      /** [rows x the layer's units], row-major. */
      values: Float32Array;
      /** Wall-clock milliseconds of the forward pass in the replica. */
      ms: number;
    }
  | { type: 'error'; message: string };
