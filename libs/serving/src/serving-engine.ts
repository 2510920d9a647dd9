import { LRUCache } from 'lru-cache';
import {
  downsampleHeatmap,
  heatmapOverlayPng,
  ModelArtifactError,
  normalizePixels,
  preprocessImage,
  type PreprocessedImage,
  type ExplainRequestParsed,
  PreprocessError,
  readExportedArtifacts,
  type ArtifactLimits,
  type BackendName,
  type ExportedArtifacts,
  type ArtifactReader,
  type ImageClassification,
} from '@modelsmith/ml';
import type { BatchCalibration } from './calibrate';
import { ServingClosedError, ServingOverloadedError, ServingTimeoutError } from './errors';
import { InferenceThread } from './inference/inference-thread';
import type { BuildOptions, ThreadMemory } from './inference/protocol';
import { buildInProcessRunner, ThreadRunner, type ModelRunner } from './model-runner';
import { imageShapeOf } from './image-shape';
import { ServedModel, type ModelInput } from './served-model';

/** Which stored model answers: the cache key is `${modelId}@${version}` (version: e.g. the row's updatedAt). */
export interface ModelRef {
  modelId: string;
  version: string;
  /** Object-store prefix of the exported model (manifest.json, model.json, shards). */
  prefix: string;
  /**
   * Batching for this model instead of the engine's (a deployment's tuned batch size and wait): the
   * batch size is then not calibrated at load. Part of the cache key: refs with different batching
   * are served by separate copies of the model, each with its own micro-batcher.
   */
  batching?: { maxBatchSize: number; maxBatchWaitMs: number };
}

export interface ServingEngineOptions {
  reader: ArtifactReader;
  /** Memory for loaded models (weights); least recently used ones are unloaded past it. */
  maxModelBytes: number;
  /** Most images per forward pass. With autoBatchSize, an upper bound for the measured best size. */
  maxBatchSize: number;
  /** Measure each model's best batch size when it loads (default true). */
  autoBatchSize?: boolean;
  maxBatchWaitMs: number;
  /** Per model. */
  maxQueuedImages: number;
  artifactLimits?: Partial<ArtifactLimits>;
  maxInputPixels?: number;
  /**
   * Where forward passes run: 'thread' (a worker thread that owns every loaded model, so request
   * handling and decoding go on during a pass, on the other core) or 'in-process' (the calling
   * thread). Default 'in-process'; the serving app uses 'thread'.
   */
  inference?: 'thread' | 'in-process';
  /**
   * Fold batch-norm layers into the convolutions before them when a model loads (default true):
   * the same predictions up to float rounding, one pass per activation map fewer (see foldBatchNorm).
   */
  foldBatchNorm?: boolean;
  /** tfjs backend of the inference thread (default 'auto'). */
  threadBackend?: BackendName | 'auto';
  /** Whether the inference thread may use the native BLAS addon on wasm (default true). */
  threadNativeBlas?: boolean;
  /** Delay before the one retry of a load that failed its integrity check (a training job may be rewriting the files). */
  integrityRetryMs?: number;
  /** Explanations running at once (across models); more are shed with ServingOverloadedError. Default 1. */
  maxConcurrentExplanations?: number;
}

export interface ExplainOptions {
  deadline: number;
  /** Rows and columns of the downsampled heatmap in the answer (capped at the model's input size). Default 16. */
  grid?: number;
  /** Also render the heatmap over the image as a PNG (default true). */
  overlay?: boolean;
}

export interface ExplainResult {
  modelId: string;
  version: string;
  method: string;
  target: { index: number; label: string };
  /** Model probability of the target class for the image (the image alone, without test-time views). */
  probability: number;
  /**
   * The model's test-time views (its manifest's `tta`), when it has them: predict averages the
   * probabilities over the image and these views; the explanation and `probability` are of the
   * image alone.
   */
  testTimeViews?: string[];
  /** The heatmap averaged over a grid (rows x cols, row-major), larger = more evidence for the target. */
  heatmap: { rows: number; cols: number; values: number[][] };
  /** The heatmap over the image at the model's input size (PNG). */
  overlayPng?: Buffer;
  /** What the explanation cost: images through the model (gradient images count once) and milliseconds. */
  cost: { modelImages: number; ms: number };
  /** Integrated Gradients only: sum(attributions) - (p(x) - p(black)); near 0 when the steps suffice. */
  completenessGap?: number;
}

export interface PredictOptions {
  /** Classes per image, best first (default 5, capped at the class count). */
  topK?: number;
  /** Date.now() time after which the request fails with ServingTimeoutError instead of waiting on. */
  deadline: number;
}

export interface PredictResult {
  modelId: string;
  version: string;
  predictions: ImageClassification[];
}

export interface ServingStats {
  models: Array<{
    modelId: string;
    version: string;
    bytes: number;
    batchSize: number;
    /** Wait for a batch to fill when idle, ms (a deployment's tuned wait, or the engine's). */
    batchWaitMs: number;
    /** Waiting images that start a batch while another runs (inference thread); null: one batch at a time. */
    overlapAt: number | null;
    calibration: Array<{ size: number; imagesPerSecond: number }> | null;
    inFlight: number;
    queuedImages: number;
    batches: number;
    images: number;
    imagesPerSecond: number;
    /**
     * Milliseconds its forward passes ran so far, each timed on the thread that ran it (hand-over and
     * waiting excluded): over an interval, its change divided by the interval is the share of the
     * inference thread the model kept busy, and divided by the change in `images`, its cost per image.
     */
    forwardMs: number;
    lastUsedAt: string;
  }>;
  totalBytes: number;
  maxBytes: number;
  inference: 'thread' | 'in-process';
  loads: number;
  evictions: number;
  loadFailures: number;
}

const DEFAULT_TOP_K = 5;

const keyOf = (ref: ModelRef) =>
  ref.batching
    ? `${ref.modelId}@${ref.version}#b${ref.batching.maxBatchSize}w${ref.batching.maxBatchWaitMs}`
    : `${ref.modelId}@${ref.version}`;

/** `pending`, or ServingTimeoutError once the Date.now() `deadline` passes (the load itself goes on). */
function beforeDeadline<T>(pending: Promise<T>, deadline: number): Promise<T> {
  if (deadline === Number.POSITIVE_INFINITY) return pending;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const arm = () => {
      const wait = deadline - Date.now();
      // setTimeout fires after 1 ms for delays over 2^31-1 ms: re-arm for far deadlines.
      timer = setTimeout(
        () =>
          wait > MAX_TIMER_MS
            ? arm()
            : reject(new ServingTimeoutError('the model did not load before the request deadline', 1)),
        Math.max(0, Math.min(wait, MAX_TIMER_MS)),
      );
      timer.unref();
    };
    arm();
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Online prediction over stored models: an LRU cache of loaded models under a memory cap (single-flight
 * loads, manifests validated before any weight is read), and per model a micro-batcher that packs the
 * images of concurrent requests into shared forward passes. Images are decoded and normalized as the
 * model's manifest says (the training preprocessing) before they queue, on libuv's thread pool.
 */
export class ServingEngine {
  private readonly cache: LRUCache<string, ServedModel>;
  private readonly loading = new Map<string, Promise<ServedModel>>();
  /** Every model whose weights are still allocated: cached, or evicted but still in use. */
  private readonly live = new Set<ServedModel>();
  private closed = false;
  private closing: Promise<void> | undefined;
  private counters = { loads: 0, evictions: 0, loadFailures: 0 };
  private thread: Promise<InferenceThread> | undefined;
  private nextHandle = 1;
  private explaining = 0;

  constructor(private readonly options: ServingEngineOptions) {
    const { maxModelBytes, maxBatchSize, maxBatchWaitMs, maxQueuedImages } = options;
    if (!Number.isSafeInteger(maxModelBytes) || maxModelBytes < 1)
      throw new RangeError(`maxModelBytes must be a positive integer (got ${maxModelBytes})`);
    if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1)
      throw new RangeError(`maxBatchSize must be a positive integer (got ${maxBatchSize})`);
    if (!Number.isSafeInteger(maxQueuedImages) || maxQueuedImages < 1)
      throw new RangeError(`maxQueuedImages must be a positive integer (got ${maxQueuedImages})`);
    if (!(maxBatchWaitMs >= 0) || !Number.isFinite(maxBatchWaitMs))
      throw new RangeError(`maxBatchWaitMs must be >= 0 (got ${maxBatchWaitMs})`);
    this.cache = new LRUCache<string, ServedModel>({
      maxSize: options.maxModelBytes,
      // A model bigger than the whole cap is counted at the cap: it is served, and evicts everything else.
      sizeCalculation: (m) => Math.max(1, Math.min(m.bytes, options.maxModelBytes)),
      dispose: (m, _key, reason) => {
        // 'evict': pushed out by the memory cap; 'delete' (close()) is not counted as an eviction.
        if (reason === 'evict') this.counters.evictions++;
        m.evict();
      },
    });
  }

  async predict(
    ref: ModelRef,
    images: readonly Uint8Array[],
    options: PredictOptions,
  ): Promise<PredictResult> {
    if (typeof options.deadline !== 'number' || Number.isNaN(options.deadline))
      throw new RangeError('deadline must be a Date.now() time in ms (Infinity for none)');
    const model = await this.acquire(ref, options.deadline);
    try {
      const { manifest } = model;
      const topK = Math.max(1, Math.min(options.topK ?? DEFAULT_TOP_K, manifest.classNames.length));
      // Shed before decoding when the queue is already full (checked again when the images queue).
      const full = model.batcher.overloaded(images.length);
      if (full) throw full;
      const inputs = await this.preprocess(model, images, topK);
      const predictions = await model.batcher.submit(inputs, options.deadline);
      return { modelId: ref.modelId, version: ref.version, predictions };
    } finally {
      model.release();
    }
  }

  /**
   * Explains the model's answer for one image (see libs/ml explainImage): the request's method and
   * budget, the image preprocessed as for predict, a black image (pixel 0, normalized) as baseline.
   * At most `maxConcurrentExplanations` run at once; others are shed with ServingOverloadedError.
   */
  async explain(
    ref: ModelRef,
    image: Uint8Array,
    request: ExplainRequestParsed,
    options: ExplainOptions,
  ): Promise<ExplainResult> {
    if (this.explaining >= (this.options.maxConcurrentExplanations ?? 1))
      throw new ServingOverloadedError('too many explanations are running; retry shortly', 1);
    this.explaining++;
    try {
      const model = await this.acquire(ref, options.deadline);
      try {
        const { input, normalization, classNames } = model.manifest;
        if (input.kind !== 'image' || normalization === null)
          throw new Error('unreachable: ServedModel checks its input');
        const seen = await this.preprocessOne(model, image, 0, true);
        if (Date.now() >= options.deadline)
          throw new ServingTimeoutError('the request deadline passed before the explanation started', 1);
        const black = Array.from(
          normalizePixels(new Uint8Array(input.channels), input.channels, normalization),
        );
        const out = await model.explain(seen.data, request, black);
        const grid = Math.max(1, Math.min(options.grid ?? 16, out.height, out.width));
        return {
          modelId: ref.modelId,
          version: ref.version,
          method: out.method,
          target: { index: out.target, label: classNames[out.target] ?? String(out.target) },
          probability: out.probability,
          ...(model.manifest.tta?.length ? { testTimeViews: [...model.manifest.tta] } : {}),
          heatmap: {
            rows: grid,
            cols: grid,
            values: downsampleHeatmap(out.heatmap, out.height, out.width, grid, grid),
          },
          ...(options.overlay === false
            ? {}
            : {
                overlayPng: await heatmapOverlayPng(
                  seen.pixels ?? new Uint8Array(out.height * out.width * input.channels),
                  input.channels,
                  out.heatmap,
                  out.height,
                  out.width,
                ),
              }),
          cost: { modelImages: out.modelImages, ms: Math.round(out.ms) },
          ...(out.completenessGap !== undefined ? { completenessGap: out.completenessGap } : {}),
        };
      } finally {
        model.release();
      }
    } finally {
      this.explaining--;
    }
  }

  /** Loads a model into the cache ahead of traffic (e.g. before a deployment switches to it). */
  async warm(ref: ModelRef): Promise<void> {
    const model = await this.acquire(ref, Number.POSITIVE_INFINITY);
    model.release();
  }

  stats(): ServingStats {
    const models = [...this.cache.values()].map((m) => {
      const b = m.batcher.stats();
      return {
        modelId: m.modelId,
        version: m.version,
        bytes: m.bytes,
        batchSize: m.batcher.maxBatchSize,
        batchWaitMs: m.batcher.maxBatchWaitMs,
        overlapAt: m.batcher.overlapThreshold,
        calibration: m.calibration?.samples ?? null,
        inFlight: m.inFlight,
        queuedImages: b.queued,
        batches: b.batches,
        images: b.items,
        imagesPerSecond: b.itemsPerSecond,
        forwardMs: Math.round(m.forwardMs * 10) / 10,
        lastUsedAt: new Date(m.lastUsedAt).toISOString(),
      };
    });
    return {
      models,
      totalBytes: this.cache.calculatedSize,
      maxBytes: this.options.maxModelBytes,
      inference: this.options.inference ?? 'in-process',
      ...this.counters,
    };
  }

  /**
   * Starts the inference thread now rather than at the first model load (so the first request does
   * not wait for it) and says which tfjs backend it runs on, with the native BLAS addon's build when its
   * kernels use it (null: absent or off); undefined with in-process inference.
   */
  async startInferenceThread(): Promise<{ backend: string; nativeBlas: string | null } | undefined> {
    if (this.options.inference !== 'thread') return undefined;
    if (this.closed) throw new ServingClosedError();
    const { backend, nativeBlas } = await this.inferenceThread();
    return { backend, nativeBlas };
  }

  /** tf.memory() inside the inference thread and how many models it holds; undefined when none is running. */
  async threadMemory(): Promise<ThreadMemory | undefined> {
    const thread = await this.startedThread();
    return thread?.alive ? thread.memory() : undefined;
  }

  /**
   * Refuses new work, rejects every queued image with ServingClosedError (a forward pass already
   * running finishes), and resolves once every model's weights are freed (loads in progress are
   * awaited and their models dropped). Safe to call twice: both calls resolve when it is done.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await Promise.allSettled([...this.loading.values()]);
      const models = [...this.live];
      for (const m of models) m.batcher.close();
      this.cache.clear();
      await Promise.all(models.map((m) => m.freed));
      await (await this.startedThread())?.terminate();
    })();
    return this.closing;
  }

  private async acquire(ref: ModelRef, deadline: number): Promise<ServedModel> {
    const key = keyOf(ref);
    for (;;) {
      if (this.closed) throw new ServingClosedError();
      const cached = this.cache.get(key);
      if (cached) {
        cached.acquire();
        return cached;
      }
      let pending = this.loading.get(key);
      if (!pending) {
        pending = this.load(ref).finally(() => this.loading.delete(key));
        this.loading.set(key, pending);
      }
      const model = await beforeDeadline(pending, deadline);
      if (this.closed) throw new ServingClosedError();
      // load() holds the new model until its waiters ran, so it is normally alive here; if another
      // load pushed it out regardless, load it again (bounded by the deadline).
      if (model.isDisposed) continue;
      model.acquire();
      return model;
    }
  }

  private async load(ref: ModelRef): Promise<ServedModel> {
    const read = () =>
      readExportedArtifacts(this.options.reader, ref.prefix, { limits: this.options.artifactLimits });
    try {
      let files: ExportedArtifacts;
      try {
        files = await read();
      } catch (e) {
        if (!(e instanceof ModelArtifactError && e.code === 'ARTIFACT_INTEGRITY_MISMATCH')) throw e;
        await new Promise((r) => setTimeout(r, this.options.integrityRetryMs ?? 500));
        files = await read();
      }
      imageShapeOf(files.manifest); // refuses a model that does not take images before it is built anywhere
      const tuned = ref.batching;
      if (
        tuned &&
        (!Number.isSafeInteger(tuned.maxBatchSize) ||
          tuned.maxBatchSize < 1 ||
          !(tuned.maxBatchWaitMs >= 0) ||
          !Number.isFinite(tuned.maxBatchWaitMs))
      )
        throw new RangeError('batching needs an integer maxBatchSize >= 1 and a finite maxBatchWaitMs >= 0');
      const build = {
        foldBatchNorm: this.options.foldBatchNorm !== false,
        calibrateUpTo: tuned || this.options.autoBatchSize === false ? null : this.options.maxBatchSize,
      };
      const { runner, calibration } =
        this.options.inference === 'thread'
          ? await this.buildInThread(files, build)
          : await buildInProcessRunner(files, build);
      let model: ServedModel;
      try {
        model = new ServedModel(
          ref.modelId,
          ref.version,
          files.manifest,
          runner,
          tuned
            ? { ...this.options, ...tuned }
            : { ...this.options, maxBatchSize: calibration?.batchSize ?? this.options.maxBatchSize },
          calibration,
        );
      } catch (e) {
        void runner.dispose().catch(() => undefined);
        throw e;
      }
      this.counters.loads++;
      if (this.closed) {
        model.dispose();
        throw new ServingClosedError();
      }
      this.live.add(model);
      void model.freed.then(() => this.live.delete(model));
      // Held until the requests waiting for this load have taken their own reference (they resume in
      // microtasks; setImmediate runs after them), so a concurrent load evicting it cannot free it first.
      model.acquire();
      setImmediate(() => model.release());
      // A model bigger than the whole cap is still served: it is counted at the cap, so it evicts everything else.
      this.cache.set(keyOf(ref), model);
      return model;
    } catch (e) {
      this.counters.loadFailures++;
      throw e;
    }
  }

  private async buildInThread(
    files: ExportedArtifacts,
    build: BuildOptions,
  ): Promise<{ runner: ModelRunner; calibration: BatchCalibration | undefined }> {
    const thread = await this.inferenceThread();
    const handle = this.nextHandle++;
    const loaded = await thread.load(handle, files, build);
    return {
      runner: new ThreadRunner(thread, handle, loaded.bytes),
      calibration: loaded.calibration ?? undefined,
    };
  }

  /** The inference thread if one was started (and did not fail to start); never starts one. */
  private async startedThread(): Promise<InferenceThread | undefined> {
    return this.thread?.catch(() => undefined);
  }

  /**
   * The running inference thread, started on first use. When it dies, the models that lived in it
   * leave the cache (their requests fail; the next ones load them again, in a new thread).
   */
  private inferenceThread(): Promise<InferenceThread> {
    if (!this.thread) {
      const starting = InferenceThread.start({
        backend: this.options.threadBackend ?? 'auto',
        nativeBlas: this.options.threadNativeBlas,
      });
      this.thread = starting;
      starting.then(
        (thread) =>
          thread.onExit(() => {
            if (this.thread === starting) this.thread = undefined;
            if (this.closed) return;
            for (const [key, m] of this.cache.entries()) if (m.runsIn(thread)) this.cache.delete(key);
          }),
        () => {
          if (this.thread === starting) this.thread = undefined;
        },
      );
    }
    return this.thread;
  }

  private async preprocess(
    model: ServedModel,
    images: readonly Uint8Array[],
    topK: number,
  ): Promise<ModelInput[]> {
    return Promise.all(
      images.map(async (bytes, i) => ({
        data: (await this.preprocessOne(model, bytes, i, false)).data,
        topK,
      })),
    );
  }

  /**
   * One image as the model saw it in training (predict, batch prediction and explain share it): fitted
   * by the manifest's policy, through the dataset cache's size first when the model was trained from
   * one (`input.trainedFrom`), normalized. `keepPixels` also returns the 8-bit pixels at the input size.
   */
  private async preprocessOne(
    model: ServedModel,
    bytes: Uint8Array,
    index: number,
    keepPixels: boolean,
  ): Promise<PreprocessedImage> {
    const { input, normalization } = model.manifest;
    if (input.kind !== 'image' || normalization === null)
      throw new Error('unreachable: ServedModel checks its input');
    const spec = { height: input.height, width: input.width, channels: input.channels, normalization };
    try {
      return await preprocessImage(bytes, spec, {
        fit: input.fit,
        maxInputPixels: this.options.maxInputPixels,
        ...(input.trainedFrom ? { trainedFrom: input.trainedFrom } : {}),
        keepPixels,
      });
    } catch (e) {
      if (e instanceof PreprocessError)
        throw new PreprocessError(e.code, `image ${index}: ${e.message}`, { cause: e });
      throw e;
    }
  }
}
