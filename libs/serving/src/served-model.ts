import type { ExplainRequestParsed, ExportManifest, ImageClassification } from '@modelsmith/ml';
import type { BatchCalibration } from './calibrate';
import { imageShapeOf } from './image-shape';
import { MicroBatcher } from './micro-batcher';
import type { InferenceThread } from './inference/inference-thread';
import type { ExplainOutput } from './inference/protocol';
import type { ModelRunner } from './model-runner';
import { rankRow } from './top-k';

export interface BatchingOptions {
  maxBatchSize: number;
  maxBatchWaitMs: number;
  maxQueuedImages: number;
}

/** One image's model input (normalized HWC float32) and the top-k its request asked for. */
export interface ModelInput {
  data: Float32Array;
  topK: number;
}

/**
 * A loaded model with its own micro-batcher and a reference count: the cache may evict it while
 * requests still use it, and it is disposed only once the last of them is done.
 */
export class ServedModel {
  readonly bytes: number;
  readonly batcher: MicroBatcher<ModelInput, ImageClassification>;
  readonly inputShape: [number, number, number];
  lastUsedAt = Date.now();
  /** Milliseconds its forward passes ran, summed (each timed where it ran; see ForwardResult.passMs). */
  forwardMs = 0;
  /** Resolves once the weights are freed (after dispose() and the end of any running forward pass). */
  readonly freed: Promise<void>;
  private users = 0;
  private evicted = false;
  private disposed = false;
  private passesRunning = 0;
  private weightsFreed = false;
  private onFreed!: () => void;

  constructor(
    readonly modelId: string,
    readonly version: string,
    readonly manifest: ExportManifest,
    /** Where its forward passes run; owns the weights. */
    private readonly runner: ModelRunner,
    batching: BatchingOptions,
    /** How the batch size was chosen, when it was measured. */
    readonly calibration?: BatchCalibration,
  ) {
    this.freed = new Promise<void>((resolve) => (this.onFreed = resolve));
    this.inputShape = imageShapeOf(manifest);
    this.bytes = runner.bytes;
    this.batcher = new MicroBatcher<ModelInput, ImageClassification>({
      maxBatchSize: batching.maxBatchSize,
      maxBatchWaitMs: batching.maxBatchWaitMs,
      maxQueued: batching.maxQueuedImages,
      // In a thread, the next batch is handed over while one runs once it is big enough to run
      // efficiently, so the thread does not sit idle while this side collects it.
      maxRunningBatches: runner.thread ? 2 : 1,
      overlapAt: calibration?.efficientBatchSize ?? batching.maxBatchSize,
      run: (inputs) => this.run(inputs),
    });
  }

  get inFlight(): number {
    return this.users;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Whether its forward passes run in this inference thread. */
  runsIn(thread: InferenceThread): boolean {
    return this.runner.thread === thread;
  }

  acquire(): void {
    this.users++;
    this.lastUsedAt = Date.now();
  }

  release(): void {
    this.users--;
    if (this.users === 0 && this.evicted) this.dispose();
  }

  /** Called by the cache when it drops this model: disposed now, or when the last user releases it. */
  evict(): void {
    this.evicted = true;
    if (this.users === 0) this.dispose();
  }

  /**
   * Refuses queued work and frees the weights, at once or, when a forward pass is running (e.g. the
   * last user timed out while its images were in it), as soon as that pass ends. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.batcher.close();
    if (this.passesRunning === 0) this.freeWeights();
  }

  private freeWeights(): void {
    if (this.weightsFreed) return;
    this.weightsFreed = true;
    // A runner whose thread died has nothing left to free: freed either way.
    void this.runner.dispose().then(this.onFreed, this.onFreed);
  }

  /** One explanation, counted as a running pass (the weights are not freed under it). */
  async explain(
    input: Float32Array,
    request: ExplainRequestParsed,
    baseline: number[],
  ): Promise<ExplainOutput> {
    if (this.weightsFreed) throw new Error('unreachable: explanation on a disposed model');
    this.passesRunning++;
    try {
      return await this.runner.explain(input, this.inputShape, request, baseline);
    } finally {
      this.passesRunning--;
      if (this.disposed && this.passesRunning === 0) this.freeWeights();
    }
  }

  private async run(inputs: ModelInput[]): Promise<ImageClassification[]> {
    if (this.weightsFreed) throw new Error('unreachable: forward pass on a disposed model');
    this.passesRunning++;
    try {
      return await this.forward(inputs);
    } finally {
      this.passesRunning--;
      if (this.disposed && this.passesRunning === 0) this.freeWeights();
    }
  }

  private async forward(inputs: ModelInput[]): Promise<ImageClassification[]> {
    const [h, w, c] = this.inputShape;
    const size = h * w * c;
    const packed = new Float32Array(inputs.length * size);
    inputs.forEach((input, i) => packed.set(input.data, i * size));
    const { probabilities, passMs } = await this.runner.forward(packed, inputs.length, this.inputShape);
    this.forwardMs += passMs;
    const classes = this.manifest.classNames;
    return inputs.map((input, i) =>
      rankRow(probabilities.subarray(i * classes.length, (i + 1) * classes.length), classes, input.topK),
    );
  }
}
