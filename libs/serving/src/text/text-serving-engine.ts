import { LRUCache } from 'lru-cache';
import {
  ExplainError,
  limeText,
  loadTextClassifier,
  ModelArtifactError,
  readModelTask,
  type ArtifactLimits,
  type ArtifactReader,
  type TextClassification,
  type TextModel,
  type TextLimeWord,
  type TextManifest,
} from '@modelsmith/ml';
import { ServingClosedError } from '../errors';

export interface TextModelRef {
  modelId: string;
  version: string;
  prefix: string;
}

export interface TextServingOptions {
  reader: ArtifactReader;
  /** Memory for loaded text models; least recently used ones are unloaded past it. */
  maxModelBytes: number;
  /** Most texts in one request. */
  maxInstances: number;
  artifactLimits?: Partial<ArtifactLimits>;
}

/** One instance of a request is not a text this model accepts (HTTP 400 naming `field`). */
export class TextInputError extends Error {
  override readonly name = 'TextInputError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request's kind of input does not fit the model (text to an image model, or the reverse): HTTP 422. */
export class ModelInputMismatchError extends Error {
  override readonly name = 'ModelInputMismatchError';

  constructor(
    readonly modelTask: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TextPredictResult {
  modelId: string;
  version: string;
  predictions: TextClassification[];
}

/** Text LIME's budget (libs/ml `limeText`), as validated by the caller. */
export interface TextExplainRequest {
  samples: number;
  maxWords: number;
  target?: number;
  seed: number;
}

export interface TextExplainResult {
  modelId: string;
  version: string;
  method: 'lime';
  /** The class explained (the predicted one unless the request set `target`). */
  target: { index: number; label: string };
  probability: number;
  /** Distinct words by |weight|, largest first, each with its `[start, end)` offsets in the text. */
  words: TextLimeWord[];
  intercept: number;
  score: number;
  cost: { modelTexts: number; ms: number };
}

interface LoadedText {
  classifier: TextModel;
  manifest: TextManifest;
  bytes: number;
}

const keyOf = (ref: TextModelRef) => `${ref.modelId}@${ref.version}`;

/**
 * Online prediction for text models (libs/ml TextClassifier): an LRU cache of loaded models under a
 * memory cap with single-flight loads (manifest validated, every file checked against its sha256),
 * and validation of each instance against the model's input (a non-empty string of at most
 * `input.maxChars` characters). A linear model answers a text in microseconds, so requests are
 * answered on the calling thread, without micro-batching.
 */
export class TextServingEngine {
  private readonly cache: LRUCache<string, LoadedText>;
  private readonly loading = new Map<string, Promise<LoadedText>>();
  /** The task each model's manifest names (small; kept per model version). */
  private readonly tasks = new LRUCache<string, string>({ max: 10_000 });
  private closed = false;

  constructor(private readonly options: TextServingOptions) {
    if (!Number.isSafeInteger(options.maxModelBytes) || options.maxModelBytes < 1)
      throw new RangeError(`maxModelBytes must be a positive integer (got ${options.maxModelBytes})`);
    if (!Number.isSafeInteger(options.maxInstances) || options.maxInstances < 1)
      throw new RangeError(`maxInstances must be a positive integer (got ${options.maxInstances})`);
    this.cache = new LRUCache<string, LoadedText>({
      maxSize: options.maxModelBytes,
      sizeCalculation: (m) => Math.max(1, Math.min(m.bytes, options.maxModelBytes)),
    });
  }

  /** The task manifest.json names (e.g. `text-classification`, `image-classification`). */
  async taskOf(ref: TextModelRef): Promise<string> {
    const key = keyOf(ref);
    const known = this.tasks.get(key);
    if (known) return known;
    const task =
      (await readModelTask(this.options.reader, ref.prefix, this.options.artifactLimits)) ?? 'unknown';
    this.tasks.set(key, task);
    return task;
  }

  async isTextModel(ref: TextModelRef): Promise<boolean> {
    return (await this.taskOf(ref)) === 'text-classification';
  }

  /**
   * Classifies `instances` (as parsed from the request body: each must be a string). Instances are
   * checked before the model runs; the first bad one is reported with its index.
   */
  async predict(
    ref: TextModelRef,
    instances: readonly unknown[],
    options: { topK: number },
  ): Promise<TextPredictResult> {
    const { texts, model } = await this.checked(ref, instances);
    const topK = Math.max(1, Math.min(options.topK, model.classifier.classNames.length));
    return {
      modelId: ref.modelId,
      version: ref.version,
      predictions: model.classifier.classify(texts, topK),
    };
  }

  /**
   * Word-level LIME explanations of `instances` (each checked as predict checks it), for `request.target`
   * or each text's predicted class. A linear model classifies a perturbed text in microseconds, so
   * this runs on the calling thread like predict.
   */
  async explain(
    ref: TextModelRef,
    instances: readonly unknown[],
    request: TextExplainRequest,
  ): Promise<TextExplainResult[]> {
    const { texts, model } = await this.checked(ref, instances);
    const names = model.classifier.classNames;
    if (request.target !== undefined && request.target >= names.length)
      throw new ExplainError(
        'EXPLAIN_INPUT_MISMATCH',
        `explain.target must be a class index of this model, 0..${names.length - 1} (got ${request.target})`,
      );
    const proba = (t: readonly string[]) => model.classifier.predictProba(t);
    return texts.map((text) => {
      const r = limeText(proba, names.length, text, request);
      return {
        modelId: ref.modelId,
        version: ref.version,
        method: 'lime',
        target: { index: r.target, label: names[r.target] },
        probability: r.probability,
        words: r.words,
        intercept: r.intercept,
        score: r.score,
        cost: { modelTexts: r.modelTexts, ms: r.ms },
      };
    });
  }

  /** Loads a text model ahead of traffic. */
  async warm(ref: TextModelRef): Promise<void> {
    await this.load(ref);
  }

  stats(): { models: Array<{ modelId: string; bytes: number }>; totalBytes: number; maxBytes: number } {
    return {
      models: [...this.cache.entries()].map(([key, m]) => ({ modelId: key.split('@')[0], bytes: m.bytes })),
      totalBytes: this.cache.calculatedSize,
      maxBytes: this.options.maxModelBytes,
    };
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
  }

  /** The model and the instances as texts, after the checks predict and explain share. */
  private async checked(
    ref: TextModelRef,
    instances: readonly unknown[],
  ): Promise<{ texts: string[]; model: LoadedText }> {
    if (this.closed) throw new ServingClosedError();
    const task = await this.taskOf(ref);
    if (task !== 'text-classification')
      throw new ModelInputMismatchError(
        task,
        `this deployment's model is a ${task} model; send its input (images as multipart/form-data or {"images": [...]}), not "instances" of text`,
      );
    if (instances.length === 0) throw new TextInputError('instances', 'send at least one text');
    if (instances.length > this.options.maxInstances)
      throw new TextInputError(
        'instances',
        `at most ${this.options.maxInstances} texts per request (got ${instances.length})`,
      );
    const model = await this.load(ref);
    const max = model.manifest.input.maxChars;
    const texts = instances.map((v, i) => {
      if (typeof v !== 'string')
        throw new TextInputError(
          `instances[${i}]`,
          `must be a string (got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v})`,
        );
      if (v.trim() === '') throw new TextInputError(`instances[${i}]`, 'is empty');
      if (v.length > max)
        throw new TextInputError(
          `instances[${i}]`,
          `has ${v.length} characters; this model accepts at most ${max}`,
        );
      return v;
    });
    return { texts, model };
  }

  private async load(ref: TextModelRef): Promise<LoadedText> {
    const key = keyOf(ref);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = loadTextClassifier(this.options.reader, ref.prefix, { limits: this.options.artifactLimits })
        .then(({ classifier, manifest }) => {
          const loaded = { classifier, manifest, bytes: classifier.bytes };
          if (!this.closed) this.cache.set(key, loaded);
          return loaded;
        })
        .catch((e: unknown) => {
          if (e instanceof ModelArtifactError) throw e;
          throw new ModelArtifactError(
            'ARTIFACT_NOT_FOUND',
            `the text model could not be read: ${e instanceof Error ? e.message : String(e)}`,
            { cause: e },
          );
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }
}
