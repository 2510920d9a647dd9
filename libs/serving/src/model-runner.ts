import * as tf from '@tensorflow/tfjs';
import {
  buildExportedModel,
  explainImage,
  foldBatchNorm,
  predictProbabilities,
  testTimeAveragingOf,
  type ExplainRequestParsed,
  type TestTimeAveraging,
  type ExportedArtifacts,
  type ExportedModel,
} from '@modelsmith/ml';
import { calibrateBatchSize, type BatchCalibration } from './calibrate';
import type { InferenceThread } from './inference/inference-thread';
import type { BuildOptions, ExplainOutput, ForwardResult } from './inference/protocol';
import { imageShapeOf } from './image-shape';

/** Where a served model's forward passes run. */
export interface ModelRunner {
  /** Bytes its weights occupy. */
  readonly bytes: number;
  /** The inference thread holding the model, when it is not on the calling thread. */
  readonly thread?: InferenceThread;
  /** Class probabilities of `count` images packed HWC back to back, row after row. May take over `input`. */
  forward(
    input: Float32Array,
    count: number,
    shape: readonly [number, number, number],
  ): Promise<ForwardResult>;
  /** One explanation of one image (HWC float32, may be taken over). */
  explain(
    input: Float32Array,
    shape: readonly [number, number, number],
    request: ExplainRequestParsed,
    baseline: number[],
  ): Promise<ExplainOutput>;
  /** Frees the weights (a forward pass is never running when this is called). */
  dispose(): Promise<void>;
}

/** Bytes the weights of a model occupy once loaded. */
export function weightBytes(model: tf.LayersModel): number {
  return model.weights.reduce(
    (sum, w) =>
      sum +
      w.shape.reduce((n: number, d) => n * (d ?? 1), 1) *
        (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : 1),
    0,
  );
}

/**
 * Forward passes on the calling thread: the model's probabilities, averaged over its manifest's
 * test-time views when it has them (predictProbabilities, as evaluation takes them). An explanation
 * is of the image alone.
 */
export class InProcessRunner implements ModelRunner {
  readonly bytes: number;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly tta?: TestTimeAveraging,
  ) {
    this.bytes = weightBytes(model);
  }

  async forward(
    input: Float32Array,
    count: number,
    [h, w, c]: readonly [number, number, number],
  ): Promise<ForwardResult> {
    const started = performance.now();
    const output = tf.tidy(() =>
      predictProbabilities(this.model, tf.tensor4d(input, [count, h, w, c]), this.tta),
    );
    try {
      const probabilities = (await output.data()) as Float32Array;
      return { probabilities, passMs: performance.now() - started };
    } finally {
      output.dispose();
    }
  }

  async explain(
    input: Float32Array,
    [h, w, c]: readonly [number, number, number],
    request: ExplainRequestParsed,
    baseline: number[],
  ): Promise<ExplainOutput> {
    const a = await explainImage(this.model, { data: input, shape: [h, w, c] }, request, { baseline });
    return {
      method: a.method,
      target: a.target,
      probability: a.probability,
      height: a.height,
      width: a.width,
      heatmap: a.heatmap,
      modelImages: a.modelImages,
      ms: a.ms,
      ...('delta' in a && typeof a.delta === 'number' ? { completenessGap: a.delta } : {}),
    };
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}

/** buildExportedModel, then (when asked) batch norms folded for inference. */
async function buildForServing(files: ExportedArtifacts, fold: boolean): Promise<ExportedModel> {
  const exported = await buildExportedModel(files);
  if (!fold) return exported;
  try {
    const { model, folded } = await foldBatchNorm(exported.model);
    if (folded > 0) exported.model.dispose();
    return { model, manifest: exported.manifest };
  } catch (e) {
    exported.model.dispose();
    throw e;
  }
}

/**
 * Builds a served model on the calling thread (the engine in-process, or the inference thread for
 * its own models): checked against its manifest, batch norms folded if asked, batch size measured.
 */
export async function buildInProcessRunner(
  files: ExportedArtifacts,
  options: BuildOptions,
): Promise<{ runner: InProcessRunner; calibration: BatchCalibration | undefined }> {
  const { model, manifest } = await buildForServing(files, options.foldBatchNorm);
  try {
    const calibration =
      options.calibrateUpTo === null
        ? undefined
        : await calibrateBatchSize(
            model,
            imageShapeOf(manifest),
            options.calibrateUpTo,
            options.calibrateBudgetMs,
          );
    return { runner: new InProcessRunner(model, testTimeAveragingOf(manifest)), calibration };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Forward passes in an InferenceThread, where the model was built under `handle`. */
export class ThreadRunner implements ModelRunner {
  constructor(
    readonly thread: InferenceThread,
    private readonly handle: number,
    readonly bytes: number,
  ) {}

  forward(input: Float32Array, count: number): Promise<ForwardResult> {
    return this.thread.predict(this.handle, input, count);
  }

  explain(
    input: Float32Array,
    _shape: readonly [number, number, number],
    request: ExplainRequestParsed,
    baseline: number[],
  ): Promise<ExplainOutput> {
    return this.thread.explain(this.handle, input, request, baseline);
  }

  dispose(): Promise<void> {
    return this.thread.unload(this.handle);
  }
}
