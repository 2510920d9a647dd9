import * as tf from '@tensorflow/tfjs';
import {
  averageProbabilities,
  predictProbabilities,
  viewProbabilities,
  type TestTimeAveraging,
} from '../preprocess/image-views';
import { epochBatches, type DataSource } from '../train/batches';
import { toClassIndices } from '../train/losses';
import {
  accuracy,
  argmaxRows,
  calibration,
  classificationMetrics,
  confusionMatrix,
  downsampleCurve,
  logLoss,
  perClassPrCurves,
  topKAccuracy,
  type AveragedMetrics,
  type Calibration,
  type PrPoint,
  type Predictions,
} from './metrics';

export interface ModelSize {
  /** Scalars in all weights. */
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Bytes of the weights as stored in memory / float32 weight files. */
  bytes: number;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 };

/** Parameter counts and weight bytes of a model. */
export function modelSize(model: tf.LayersModel): ModelSize {
  const size = (w: tf.LayerVariable) => w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
  const trainableIds = new Set(model.trainableWeights.map((w) => w.id));
  let params = 0;
  let trainableParams = 0;
  let bytes = 0;
  for (const w of model.weights) {
    const s = size(w);
    params += s;
    if (trainableIds.has(w.id)) trainableParams += s;
    bytes += s * (BYTES[w.dtype] ?? 4);
  }
  return { params, trainableParams, nonTrainableParams: params - trainableParams, bytes };
}

export interface LatencyOptions {
  /** Images per call (default 1). */
  batchSize?: number;
  /** Untimed calls first (default 3). */
  warmup?: number;
  /** Timed calls (default 20). */
  runs?: number;
  /** Shape of one input without the batch axis (default: the model's input shape). */
  inputShape?: number[];
  /** Time the prediction with this test-time averaging (one pass per view), as served. */
  tta?: TestTimeAveraging;
}

export interface Latency {
  batchSize: number;
  runs: number;
  /** Mean milliseconds per image (wall time: it grows with the machine's load). */
  msPerImage: number;
  /**
   * Process CPU milliseconds (user + system, every thread) per image over the timed calls: what the
   * model costs to run, which other processes' load changes far less than wall time. It counts the
   * whole process, so work running beside the calls in other threads of it is counted too.
   */
  cpuMsPerImage: number;
  /** Milliseconds per call: mean, median and 95th percentile. */
  msPerBatchMean: number;
  msPerBatchP50: number;
  msPerBatchP95: number;
  backend: string;
}

/** Measures inference latency (predict + reading the output) on the current backend. */
export function measureLatency(model: tf.LayersModel, opts: LatencyOptions = {}): Latency {
  const batchSize = opts.batchSize ?? 1;
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 20;
  const shape = opts.inputShape ?? model.inputs[0].shape.slice(1).map((d) => d ?? 1);
  const x = tf.randomUniform([batchSize, ...shape], 0, 1, 'float32', 7);
  try {
    const once = () => {
      const y = predictProbabilities(model, x as tf.Tensor4D, opts.tta);
      y.dataSync();
      y.dispose();
    };
    for (let i = 0; i < warmup; i++) once();
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      once();
      times.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, runs);
    const pct = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
    return {
      batchSize,
      runs,
      msPerImage: mean / batchSize,
      cpuMsPerImage: (cpu.user + cpu.system) / 1000 / Math.max(1, runs * batchSize),
      msPerBatchMean: mean,
      msPerBatchP50: pct(0.5),
      msPerBatchP95: pct(0.95),
      backend: tf.getBackend(),
    };
  } finally {
    x.dispose();
  }
}

/** Runs `model` over `batches` (inference mode) and gathers its probabilities and the labels. */
export async function collectPredictions(
  model: tf.LayersModel,
  batches: DataSource,
  opts: {
    outputs?: 'probabilities' | 'logits';
    /** Probabilities averaged over the image and these views (predictProbabilities), as served. */
    tta?: TestTimeAveraging;
  } = {},
): Promise<Predictions> {
  return (await collectViewPredictions(model, batches, opts)).averaged;
}

/**
 * collectPredictions with test-time averaging `tta`, and from the same passes the image's own
 * predictions (`plain`): what the model gives with and without the averaging.
 */
export async function collectViewPredictions(
  model: tf.LayersModel,
  batches: DataSource,
  opts: { outputs?: 'probabilities' | 'logits'; tta?: TestTimeAveraging } = {},
): Promise<{ plain: Predictions; averaged: Predictions }> {
  const plainChunks: Float32Array[] = [];
  const averagedChunks: Float32Array[] = [];
  const labelChunks: Int32Array[] = [];
  let numClasses = 0;
  for await (const b of epochBatches(batches, { epoch: 0, startStep: 0, seed: 0 })) {
    try {
      const [plain, averaged, y] = tf.tidy(() => {
        let parts = viewProbabilities(model, b.xs as tf.Tensor4D, opts.tta);
        if (opts.outputs === 'logits') parts = parts.map((p) => tf.softmax(p));
        const c = parts[0].shape[1];
        return [parts[0], averageProbabilities(parts), toClassIndices(b.ys, c)];
      });
      numClasses = plain.shape[plain.shape.length - 1];
      plainChunks.push(plain.dataSync() as Float32Array);
      averagedChunks.push(averaged.dataSync() as Float32Array);
      labelChunks.push(Int32Array.from(y.dataSync()));
      tf.dispose([plain, averaged, y]);
    } finally {
      b.xs.dispose();
      b.ys.dispose();
    }
  }
  const total = labelChunks.reduce((a, c) => a + c.length, 0);
  const labels = new Int32Array(total);
  const gather = (chunks: Float32Array[]) => {
    const probs = new Float32Array(total * numClasses);
    let o = 0;
    chunks.forEach((chunk, i) => {
      probs.set(chunk, o * numClasses);
      labels.set(labelChunks[i], o);
      o += labelChunks[i].length;
    });
    return { numClasses, probs, labels };
  };
  return { plain: gather(plainChunks), averaged: gather(averagedChunks) };
}

export interface ClassReport {
  index: number;
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** Average precision of the one-vs-rest PR curve (null without samples of the class). */
  averagePrecision: number | null;
  /** Score threshold with the best F1 for this class, one-vs-rest (null without samples). */
  suggestedThreshold: { threshold: number; precision: number; recall: number; f1: number } | null;
}

/** Everything measured about a classifier on held-out data; plain JSON. */
export interface EvaluationReport {
  version: 1;
  numSamples: number;
  numClasses: number;
  classNames: string[];
  accuracy: number;
  topK: Array<{ k: number; accuracy: number }>;
  /** Mean negative log-likelihood of the true class. */
  logLoss: number;
  perClass: ClassReport[];
  macro: AveragedMetrics;
  weighted: AveragedMetrics;
  /** `confusionMatrix[true][predicted]`. */
  confusionMatrix: number[][];
  /** One-vs-rest PR curve per class (thresholds decreasing), downsampled to `maxCurvePoints`. */
  prCurves: Array<{ index: number; name: string; points: PrPoint[] }>;
  calibration: Calibration;
  modelSize?: ModelSize;
  latency?: Latency;
}

export interface ReportOptions {
  classNames?: string[];
  /** k values for top-k accuracy (default [1, 5] limited to the number of classes). */
  topK?: number[];
  /** Calibration bins (default 15). */
  calibrationBins?: number;
  /** Points kept per PR curve in the report (default 101). */
  maxCurvePoints?: number;
}

/** Builds an {@link EvaluationReport} from predictions (pure: no model, no tensors). */
export function buildReport(p: Predictions, opts: ReportOptions = {}): EvaluationReport {
  const c = p.numClasses;
  const names = opts.classNames ?? Array.from({ length: c }, (_, i) => String(i));
  if (names.length !== c) throw new RangeError(`${names.length} class names for ${c} classes`);
  const pred = argmaxRows(p);
  const cm = confusionMatrix(p.labels, pred, c);
  const cls = classificationMetrics(cm);
  const curves = perClassPrCurves(p);
  const ks = (opts.topK ?? [1, 5]).filter((k) => k >= 1 && k <= c);
  const maxPoints = opts.maxCurvePoints ?? 101;
  return {
    version: 1,
    numSamples: p.labels.length,
    numClasses: c,
    classNames: names,
    accuracy: accuracy(p.labels, pred),
    topK: [...new Set(ks)].map((k) => ({ k, accuracy: topKAccuracy(p, k) })),
    logLoss: logLoss(p),
    perClass: cls.perClass.map((m, i) => ({
      index: i,
      name: names[i],
      ...m,
      averagePrecision: curves[i].averagePrecision,
      suggestedThreshold: curves[i].best,
    })),
    macro: cls.macro,
    weighted: cls.weighted,
    confusionMatrix: cm,
    prCurves: curves.map((cv, i) => ({
      index: i,
      name: names[i],
      points: downsampleCurve(cv.points, maxPoints),
    })),
    calibration: calibration(p, opts.calibrationBins ?? 15),
  };
}

export interface EvaluateModelOptions extends ReportOptions {
  outputs?: 'probabilities' | 'logits';
  /** The model's test-time averaging (its manifest's `tta`): predictions and latency with it. */
  tta?: TestTimeAveraging;
  /** Measure latency per image too (default: not measured). */
  latency?: LatencyOptions | boolean;
}

/** Evaluates `model` on `batches`: predictions, metrics, model size and optionally latency. */
export async function evaluateModel(
  model: tf.LayersModel,
  batches: DataSource,
  opts: EvaluateModelOptions = {},
): Promise<EvaluationReport> {
  const preds = await collectPredictions(model, batches, { outputs: opts.outputs, tta: opts.tta });
  return reportOf(model, preds, opts);
}

/** The report of `preds` (the model's, with `opts.tta` if it has one): metrics, size, latency if asked. */
export function reportOf(
  model: tf.LayersModel,
  preds: Predictions,
  opts: EvaluateModelOptions = {},
): EvaluationReport {
  const report = buildReport(preds, opts);
  report.modelSize = modelSize(model);
  if (opts.latency)
    report.latency = measureLatency(model, {
      ...(opts.latency === true ? {} : opts.latency),
      ...(opts.tta ? { tta: opts.tta } : {}),
    });
  return report;
}
