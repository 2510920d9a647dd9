import * as tf from '@tensorflow/tfjs';
import { epochBatches, stepsPerEpochOf, type TrainBatch, type DataSource } from './batches';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointStore,
  type RawTensor,
  type TensorDType,
} from './checkpoint';
import { CheckpointError, NonFiniteLossError, TrainConfigError } from './errors';
import {
  isNoDecayWeight,
  matchesLayer,
  orderedWeights,
  setTrainableFlags,
  trainableFlags,
  unfreezeLayers,
  type LayerSelector,
} from './layers';
import { categoricalCrossentropy, toClassIndices } from './losses';
import { Optimizer, type OptimizerConfig, type OptimizerParam, type OptimizerState } from './optimizers';
import { Rng, withSeededRandom, type RngState } from './rng';
import { lrFactor, type LrSchedule } from './schedules';

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
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Base learning rate at the epoch's last step. */
  lr: number;
  steps: number;
  samples: number;
  seconds: number;
}

export interface TrainPosition {
  /** Epoch of the next step to run. */
  epoch: number;
  /** Steps already done in that epoch. */
  step: number;
  globalStep: number;
}

export interface TrainResult {
  status: 'completed' | 'early-stopped' | 'cancelled';
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
}

/** Header of a checkpoint as encoded by the trainer (tensors are stored alongside). */
interface CheckpointHeader {
  format: 'modelsmith-train';
  version: 1;
  seed: number;
  optimizer: OptimizerConfig['type'];
  position: TrainPosition;
  rng: RngState;
  weights: Array<{ name: string; shape: number[]; dtype: string }>;
  trainable: boolean[];
  optimizerParams: Array<{ key: number; count: number; slots: string[] }>;
  history: EpochLog[];
  epochAccum: EpochAccum;
  early: { best: number | null; bestEpoch: number; wait: number; hasBestWeights: boolean };
  finished: TrainResult['status'] | null;
}

interface EpochAccum {
  steps: number;
  lossSum: number;
  correct: number;
  samples: number;
  seconds: number;
}

const newAccum = (): EpochAccum => ({ steps: 0, lossSum: 0, correct: 0, samples: 0, seconds: 0 });

function now(): number {
  return performance.now() / 1000;
}

function asVariable(w: tf.LayerVariable): tf.Variable {
  return w.read() as tf.Variable;
}

function readRaw(name: string, t: tf.Tensor): RawTensor {
  const dtype = t.dtype as TensorDType;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new CheckpointError(`cannot checkpoint tensor '${name}' of dtype ${t.dtype}`);
  }
  const values = t.dataSync();
  const data =
    dtype === 'float32'
      ? new Float32Array(values as Float32Array)
      : dtype === 'int32'
        ? new Int32Array(values as Int32Array)
        : new Uint8Array(values as Uint8Array);
  return { name, dtype, shape: t.shape.slice(), data };
}

function rawToTensor(r: RawTensor): tf.Tensor {
  return tf.tensor(r.data, r.shape, r.dtype);
}

/**
 * Trains `model` with a custom loop: batches come from `opts.data` one at a time (never the whole
 * dataset as tensors), every random choice is seeded, and the run can be checkpointed, cancelled
 * and resumed so that it ends with exactly the weights of an uninterrupted run.
 */
export async function train(model: tf.LayersModel, opts: TrainOptions): Promise<TrainResult> {
  const t0 = now();
  validateOptions(opts);
  const seed = opts.seed ?? 0;
  const baseLr = opts.learningRate ?? 1e-3;
  const schedule: LrSchedule = opts.lrSchedule ?? { type: 'constant' };
  const stepsPerEpochKnown = stepsPerEpochOf(opts.data);
  const totalSteps = stepsPerEpochKnown !== undefined ? stepsPerEpochKnown * opts.epochs : undefined;
  const optimizer = new Optimizer(opts.optimizer ?? { type: 'adam' });
  const rng = new Rng(seed);
  const owned = orderedWeights(model);
  const weights = owned.map((o) => o.weight);
  const groups = opts.paramGroups ?? [];
  const weightGroup = owned.map((o) => groups.find((g) => o.owners.some((l) => matchesLayer(g.layers, l))));
  const early = opts.earlyStopping;
  const monitor = early?.monitor ?? (opts.validation ? 'val_loss' : 'loss');
  if (early && monitor.startsWith('val_') && !opts.validation) {
    throw new TrainConfigError(`earlyStopping.monitor '${monitor}' needs validation data`);
  }
  const mode = early?.mode ?? (monitor.endsWith('loss') ? 'min' : 'max');
  const lossFn =
    opts.loss ??
    ((ys: tf.Tensor, out: tf.Tensor) =>
      categoricalCrossentropy(ys, out, { outputs: opts.outputs, labelSmoothing: opts.labelSmoothing }));

  let position: TrainPosition = { epoch: 0, step: 0, globalStep: 0 };
  let history: EpochLog[] = [];
  let accum = newAccum();
  let best: number | null = null;
  let bestEpoch = -1;
  let wait = 0;
  let bestWeights: tf.Tensor[] | null = null;
  let resumedFrom: TrainPosition | undefined;
  let finished: TrainResult['status'] | null = null;
  let checkpointSaved = false;

  // ---- resume ---------------------------------------------------------------------------------
  if (opts.checkpoint && opts.checkpoint.resume !== false) {
    const bytes = await opts.checkpoint.store.load(opts.checkpoint.key);
    if (bytes) {
      const { header, tensors } = decodeCheckpoint<CheckpointHeader>(bytes);
      if (header.format !== 'modelsmith-train' || header.version !== 1) {
        throw new CheckpointError(`unsupported checkpoint format ${header.format}/${header.version}`);
      }
      if (header.seed !== seed)
        throw new CheckpointError(`checkpoint was made with seed ${header.seed}, not ${seed}`);
      if (header.weights.length !== weights.length) {
        throw new CheckpointError(
          `checkpoint has ${header.weights.length} weights, the model ${weights.length}`,
        );
      }
      weights.forEach((w, i) => {
        const h = header.weights[i];
        if (h.shape.join(',') !== w.shape.join(',')) {
          throw new CheckpointError(
            `weight ${i} (${w.name}): checkpoint shape [${h.shape.join(',')}] != model [${w.shape.join(',')}]`,
          );
        }
      });
      const take = (name: string): tf.Tensor => {
        const r = tensors.get(name);
        if (!r) throw new CheckpointError(`checkpoint lacks tensor '${name}'`);
        return rawToTensor(r);
      };
      weights.forEach((w, i) => {
        const t = take(`w/${i}`);
        w.write(t);
        t.dispose();
      });
      setTrainableFlags(model, header.trainable);
      const state: OptimizerState = {
        type: header.optimizer,
        params: header.optimizerParams.map((p) => ({
          key: p.key,
          count: p.count,
          slots: Object.fromEntries(p.slots.map((s) => [s, take(`opt/${p.key}/${s}`)])),
        })),
      };
      optimizer.setState(state);
      state.params.forEach((p) => Object.values(p.slots).forEach((t) => t.dispose()));
      rng.setState(header.rng);
      position = header.position;
      history = header.history;
      accum = header.epochAccum;
      best = header.early.best;
      bestEpoch = header.early.bestEpoch;
      wait = header.early.wait;
      if (header.early.hasBestWeights) bestWeights = weights.map((_, i) => take(`best/${i}`));
      finished = header.finished;
      resumedFrom = { ...position };
    }
  }

  const saveCheckpoint = async (): Promise<void> => {
    if (!opts.checkpoint) return;
    const tensors: RawTensor[] = [];
    weights.forEach((w, i) => tensors.push(readRaw(`w/${i}`, w.read())));
    const ostate = optimizer.getState();
    try {
      for (const p of ostate.params) {
        for (const [s, t] of Object.entries(p.slots)) tensors.push(readRaw(`opt/${p.key}/${s}`, t));
      }
    } finally {
      ostate.params.forEach((p) => Object.values(p.slots).forEach((t) => t.dispose()));
    }
    bestWeights?.forEach((t, i) => tensors.push(readRaw(`best/${i}`, t)));
    const header: CheckpointHeader = {
      format: 'modelsmith-train',
      version: 1,
      seed,
      optimizer: optimizer.config.type,
      position,
      rng: rng.state(),
      weights: weights.map((w) => ({ name: w.name, shape: w.shape.map((d) => d ?? -1), dtype: w.dtype })),
      trainable: trainableFlags(model),
      optimizerParams: ostate.params.map((p) => ({
        key: p.key,
        count: p.count,
        slots: Object.keys(p.slots),
      })),
      history,
      epochAccum: accum,
      early: { best, bestEpoch, wait, hasBestWeights: bestWeights !== null },
      finished,
    };
    await opts.checkpoint.store.save(opts.checkpoint.key, encodeCheckpoint(header, tensors));
    checkpointSaved = true;
  };

  // ---- one optimisation step (synchronous: Math.random is swapped for the run's RNG inside) ------
  const weightIndex = new Map<number, number>(weights.map((w, i) => [w.id, i]));
  let lastLr =
    baseLr * lrFactor(schedule, position.globalStep, { totalSteps, stepsPerEpoch: stepsPerEpochKnown });
  const trainStep = (batch: TrainBatch): { loss: number; correct: number; n: number } => {
    const factor = lrFactor(schedule, position.globalStep, { totalSteps, stepsPerEpoch: stepsPerEpochKnown });
    lastLr = baseLr * factor;
    const trainable = model.trainableWeights;
    if (trainable.length === 0) throw new TrainConfigError('the model has no trainable weights');
    const params: OptimizerParam[] = trainable.map((w) => {
      const key = weightIndex.get(w.id);
      if (key === undefined)
        throw new TrainConfigError(`trainable weight ${w.name} is not among the model's weights`);
      const g = weightGroup[key];
      const decayable = !isNoDecayWeight(w);
      return {
        key,
        variable: asVariable(w),
        lr: lastLr * (g?.lrScale ?? 1),
        weightDecay: decayable ? (g?.weightDecay ?? optimizer.defaultWeightDecay) : 0,
      };
    });
    const vars = params.map((p) => p.variable);
    let lossT: tf.Tensor | undefined;
    let correctT: tf.Tensor | undefined;
    const n = batch.xs.shape[0] ?? 0;
    withSeededRandom(rng, () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const out = model.apply(batch.xs, { training: true }) as tf.Tensor;
          const loss = lossFn(batch.ys, out);
          const numClasses = out.shape[out.shape.length - 1];
          if (out.rank === 2 && numClasses > 1) {
            correctT = tf.keep(
              tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), toClassIndices(batch.ys, numClasses)), 'int32')),
            );
          }
          return loss;
        }, vars);
        let gradList: Array<tf.Tensor | null> = vars.map((v) => grads[v.name] ?? null);
        if (opts.clipGradNorm !== undefined) gradList = clipByGlobalNorm(gradList, opts.clipGradNorm);
        optimizer.apply(params, gradList);
        lossT = tf.keep(value);
      }),
    );
    const loss = (lossT as tf.Tensor).dataSync()[0];
    lossT?.dispose();
    const correct = correctT ? correctT.dataSync()[0] : 0;
    correctT?.dispose();
    return { loss, correct, n };
  };

  // ---- main loop ------------------------------------------------------------------------------
  let runSamples = 0;
  let runTrainSeconds = 0;
  let runSteps = 0;
  const progressEvery = opts.progressEverySteps ?? 10;
  const signal = opts.signal;
  let status: TrainResult['status'] = finished ?? 'completed';

  const throughput = () => (runTrainSeconds > 0 ? runSamples / runTrainSeconds : 0);
  const eta = (): number | undefined => {
    if (totalSteps === undefined || runSteps === 0) return undefined;
    return Math.max(0, ((totalSteps - position.globalStep) * runTrainSeconds) / runSteps);
  };

  try {
    outer: while (finished === null && position.epoch < opts.epochs) {
      const epoch = position.epoch;
      if (position.step === 0) {
        for (const u of opts.unfreeze ?? []) if (u.epoch === epoch) unfreezeLayers(model, u.layers);
      }
      const it = epochBatches(opts.data, { epoch, startStep: position.step, seed })[Symbol.asyncIterator]();
      try {
        for (;;) {
          if (signal?.aborted) {
            status = 'cancelled';
            break outer;
          }
          const stepStart = now();
          const r = await it.next();
          if (r.done) break;
          const batch = r.value;
          let res: { loss: number; correct: number; n: number };
          try {
            res = trainStep(batch);
          } finally {
            batch.xs.dispose();
            batch.ys.dispose();
          }
          if (!Number.isFinite(res.loss)) throw new NonFiniteLossError(epoch, position.step);
          const dt = now() - stepStart;
          accum.steps++;
          accum.lossSum += res.loss * res.n;
          accum.correct += res.correct;
          accum.samples += res.n;
          accum.seconds += dt;
          runSamples += res.n;
          runTrainSeconds += dt;
          runSteps++;
          position = { epoch, step: position.step + 1, globalStep: position.globalStep + 1 };
          if (opts.onProgress && progressEvery > 0 && position.step % progressEvery === 0) {
            await opts.onProgress({
              kind: 'step',
              epoch,
              epochs: opts.epochs,
              step: position.step,
              stepsPerEpoch: stepsPerEpochKnown,
              globalStep: position.globalStep,
              totalSteps,
              loss: accum.lossSum / accum.samples,
              metrics: { accuracy: accum.correct / accum.samples },
              lr: lastLr,
              samplesPerSec: throughput(),
              etaSeconds: eta(),
              elapsedSeconds: now() - t0,
            });
          }
          if (opts.checkpoint?.everySteps && position.globalStep % opts.checkpoint.everySteps === 0) {
            await saveCheckpoint();
          }
        }
      } finally {
        await it.return?.(undefined);
      }

      // ---- epoch end: validation, early stopping, checkpoint ----
      if (signal?.aborted) {
        status = 'cancelled';
        break;
      }
      const log: EpochLog = {
        epoch,
        loss: accum.samples ? accum.lossSum / accum.samples : NaN,
        accuracy: accum.samples ? accum.correct / accum.samples : NaN,
        lr: lastLr,
        steps: accum.steps,
        samples: accum.samples,
        seconds: accum.seconds,
      };
      if (opts.validation) {
        const v = await evaluateLossAccuracy(
          model,
          opts.validation,
          { epoch, startStep: 0, seed },
          (ys, out) =>
            opts.loss ? opts.loss(ys, out) : categoricalCrossentropy(ys, out, { outputs: opts.outputs }),
        );
        log.val_loss = v.loss;
        log.val_accuracy = v.accuracy;
      }
      history = [...history, log];
      accum = newAccum();
      position = { epoch: epoch + 1, step: 0, globalStep: position.globalStep };

      if (early) {
        const value = log[monitor];
        if (value === undefined || Number.isNaN(value))
          throw new TrainConfigError(`metric '${monitor}' is not available`);
        const delta = early.minDelta ?? 0;
        const improved = best === null || (mode === 'min' ? value < best - delta : value > best + delta);
        if (improved) {
          best = value;
          bestEpoch = epoch;
          wait = 0;
          if (early.restoreBestWeights ?? true) {
            bestWeights?.forEach((t) => t.dispose());
            bestWeights = weights.map((w) => tf.clone(w.read()));
          }
        } else {
          wait++;
          if (wait >= (early.patience ?? 3)) {
            status = 'early-stopped';
            finished = 'early-stopped';
          }
        }
      }
      if (finished === null && position.epoch >= opts.epochs) finished = 'completed';

      const everyEpochs = opts.checkpoint?.everyEpochs ?? 1;
      if (opts.checkpoint && (finished !== null || (everyEpochs > 0 && position.epoch % everyEpochs === 0))) {
        await saveCheckpoint();
      }
      if (opts.onProgress) {
        const metrics: Record<string, number> = { accuracy: log.accuracy };
        if (log.val_loss !== undefined) metrics.val_loss = log.val_loss;
        if (log.val_accuracy !== undefined) metrics.val_accuracy = log.val_accuracy;
        await opts.onProgress({
          kind: 'epoch',
          epoch,
          epochs: opts.epochs,
          step: log.steps,
          stepsPerEpoch: stepsPerEpochKnown,
          globalStep: position.globalStep,
          totalSteps,
          loss: log.loss,
          metrics,
          lr: lastLr,
          samplesPerSec: throughput(),
          etaSeconds: eta(),
          elapsedSeconds: now() - t0,
        });
      }
    }

    if (status === 'cancelled' && opts.checkpoint && opts.checkpoint.onCancel !== false)
      await saveCheckpoint();

    let restoredBestWeights = false;
    if (status !== 'cancelled' && bestWeights && (early?.restoreBestWeights ?? true)) {
      weights.forEach((w, i) => w.write(bestWeights![i]));
      restoredBestWeights = true;
    }
    return {
      status,
      position,
      history,
      best: early && best !== null ? { epoch: bestEpoch, monitor, value: best } : undefined,
      restoredBestWeights,
      resumedFrom,
      checkpointSaved,
      seconds: now() - t0,
      samplesPerSec: throughput(),
    };
  } finally {
    bestWeights?.forEach((t) => t.dispose());
    optimizer.dispose();
  }
}

function validateOptions(opts: TrainOptions): void {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0)
    throw new TrainConfigError('epochs must be an integer >= 0');
  if (opts.learningRate !== undefined && !(opts.learningRate > 0)) {
    throw new TrainConfigError('learningRate must be > 0');
  }
  if (opts.clipGradNorm !== undefined && !(opts.clipGradNorm > 0)) {
    throw new TrainConfigError('clipGradNorm must be > 0');
  }
  if (opts.labelSmoothing !== undefined && !(opts.labelSmoothing >= 0 && opts.labelSmoothing < 1)) {
    throw new TrainConfigError('labelSmoothing must be in [0, 1)');
  }
  if (opts.loss && opts.labelSmoothing) {
    throw new TrainConfigError(
      'labelSmoothing applies to the built-in loss only; apply it inside the custom loss',
    );
  }
  for (const g of opts.paramGroups ?? []) {
    if (g.lrScale !== undefined && !(g.lrScale >= 0))
      throw new TrainConfigError(`paramGroups[${g.name}].lrScale must be >= 0`);
  }
  const ck = opts.checkpoint;
  if (ck && ck.everySteps !== undefined && !(Number.isInteger(ck.everySteps) && ck.everySteps > 0)) {
    throw new TrainConfigError('checkpoint.everySteps must be a positive integer');
  }
}

/** Scales all gradients by min(1, maxNorm / globalNorm). */
export function clipByGlobalNorm(grads: Array<tf.Tensor | null>, maxNorm: number): Array<tf.Tensor | null> {
  const present = grads.filter((g): g is tf.Tensor => g !== null);
  if (present.length === 0) return grads;
  const scale = tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g)))));
    return tf.div(maxNorm, tf.maximum(norm, maxNorm));
  });
  const out = grads.map((g) => (g ? tf.mul(g, scale) : null));
  scale.dispose();
  return out;
}

/** Mean loss and accuracy of `model` (inference mode) over a data source's batches. */
export async function evaluateLossAccuracy(
  model: tf.LayersModel,
  data: DataSource,
  req: { epoch: number; startStep: number; seed: number } = { epoch: 0, startStep: 0, seed: 0 },
  lossFn: (ys: tf.Tensor, out: tf.Tensor) => tf.Scalar = (ys, out) => categoricalCrossentropy(ys, out),
): Promise<{ loss: number; accuracy: number; samples: number }> {
  let lossSum = 0;
  let correct = 0;
  let samples = 0;
  for await (const b of epochBatches(data, req)) {
    try {
      const [l, c] = tf.tidy(() => {
        const out = model.apply(b.xs, { training: false }) as tf.Tensor;
        const numClasses = out.shape[out.shape.length - 1];
        const loss = lossFn(b.ys, out);
        const corr = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), toClassIndices(b.ys, numClasses)), 'int32'));
        return [loss, corr];
      });
      const n = b.xs.shape[0] ?? 0;
      lossSum += l.dataSync()[0] * n;
      correct += c.dataSync()[0];
      samples += n;
      l.dispose();
      c.dispose();
    } finally {
      b.xs.dispose();
      b.ys.dispose();
    }
  }
  return { loss: samples ? lossSum / samples : NaN, accuracy: samples ? correct / samples : NaN, samples };
}
