import type { BackendName, ExportedArtifacts, ExplainRequestParsed } from '@modelsmith/ml';
import type { BatchCalibration } from '../calibrate';

/** What one forward pass gave: class probabilities, and how long the pass itself ran. */
export interface ForwardResult {
  /** `count` rows of class probabilities, back to back. */
  probabilities: Float32Array;
  /**
   * Milliseconds the pass ran, timed on the thread that ran it: not the hand-over to an inference
   * thread, nor the wait there behind another pass. Summed per model in the serving stats.
   */
  passMs: number;
}

/** How a served model is built (in-process or in the inference thread). */
export interface BuildOptions {
  /** Fold batch norms into the convolutions before them (see foldBatchNorm). */
  foldBatchNorm: boolean;
  /** Measure the best batch size up to this many images; null: do not. */
  calibrateUpTo: number | null;
  /** Time the calibration sweep may take (default calibrateBatchSize's, 3 s). */
  calibrateBudgetMs?: number;
}

/** workerData of the inference thread. */
export interface InferenceThreadInit {
  backend: BackendName | 'auto';
  /** Passed to initBackend in the thread (undefined: its default, the addon where built). */
  nativeBlas?: boolean;
}

/** A model the thread built: its weight bytes and, when asked for, its measured batch size. */
export interface LoadedInThread {
  bytes: number;
  calibration: BatchCalibration | null;
}

export type ToInferenceThread =
  | { type: 'load'; id: number; handle: number; model: ExportedArtifacts; build: BuildOptions }
  /** `input`: `count` images, HWC float32 each, back to back. */
  | { type: 'predict'; id: number; handle: number; input: Float32Array; count: number }
  /** `input`: one HWC float32 image; `baseline`: the model-input value of a black pixel per channel. */
  | {
      type: 'explain';
      id: number;
      handle: number;
      input: Float32Array;
      request: ExplainRequestParsed;
      baseline: number[];
    }
  | { type: 'unload'; id: number; handle: number }
  | { type: 'memory'; id: number };

/** An error crossing the thread boundary; ModelArtifactError keeps its code. */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
}

export type FromInferenceThread =
  | { type: 'ready'; backend: string; nativeBlas: string | null }
  | { type: 'failed'; error: ThreadError }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'error'; id: number; error: ThreadError };

export interface ThreadMemory {
  numTensors: number;
  numBytes: number;
  models: number;
}

/** One explanation, as it crosses the thread boundary. */
export interface ExplainOutput {
  method: string;
  target: number;
  probability: number;
  height: number;
  width: number;
  /** height x width, row-major: larger means more evidence for `target`. */
  heatmap: Float32Array;
  modelImages: number;
  ms: number;
  /** Integrated Gradients' completeness gap, sum(attributions) - (p(x) - p(baseline)). */
  completenessGap?: number;
}
