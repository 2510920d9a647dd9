import * as tf from '@tensorflow/tfjs';
import { augmentBatch } from './augment-hook';
import { epochBatches } from './batches';
import { earlyStoppingSaysStop } from './early-stopping';
import { TrainingDynamics } from './dynamics';
import { NonFiniteLossError, TrainConfigError } from './errors';
import { evaluateLossAccuracy } from './evaluate';
import { unfreezeLayers } from './layers';
import { loopTurns } from './loop-turns';
import type { TrainOptions, TrainResult } from './options';
import { RunClock, epochProgress, now, stepProgress } from './progress';
import { learningRateAt, planRun, type RunPlan } from './run-plan';
import type { TrainBatch } from './batches';
import { MemoryFit } from './memory-fit';
import { backendStillWorks, isOutOfMemoryError, TrainOutOfMemoryError } from './memory';
import { parallelTrainStep } from './parallel-step';
import { trainStep, type StepResult } from './train-step';
import { decodeTrainingCheckpoint, encodeTrainingCheckpoint } from './training-checkpoint';
import { TrainingState } from './training-state';
import type { EpochLog, TrainPosition, TrainStatus } from './types';

/**
 * Trains `model` with a custom loop: batches come from `opts.data` one at a time (never the whole
 * dataset as tensors), every random choice is seeded, and the run can be checkpointed, cancelled
 * and resumed so that it ends with exactly the weights of an uninterrupted run.
 *
 * The run's whole state is a {@link TrainingState}; a checkpoint is that state (and the model's
 * weights) through the codec of `training-checkpoint.ts`. The loop below only moves the state.
 */
export async function train(model: tf.LayersModel, opts: TrainOptions): Promise<TrainResult> {
  const t0 = now();
  const plan = planRun(model, opts);
  const state = new TrainingState(plan.seed, opts.optimizer ?? { type: 'adam' });
  try {
    return await run(plan, state, new RunClock(t0, plan.totalSteps));
  } finally {
    state.dispose();
  }
}

async function run(plan: RunPlan, state: TrainingState, clock: RunClock): Promise<TrainResult> {
  const { model, opts } = plan;
  const resumedFrom = await resume(plan, state);
  let lr = learningRateAt(plan, state.position.globalStep);
  let checkpointSaved = false;
  const saveCheckpoint = async (): Promise<void> => {
    if (!opts.checkpoint) return;
    const bytes = encodeTrainingCheckpoint(state.toCheckpoint(model, plan.weights));
    await opts.checkpoint.store.save(opts.checkpoint.key, bytes);
    checkpointSaved = true;
  };

  const memory = new MemoryFit(plan);
  // Steps over in-memory data chain promises without a macrotask between them: give the loop turns.
  const turn = loopTurns();
  let status: TrainStatus = state.finished ?? 'completed';
  while (state.finished === null && state.position.epoch < opts.epochs) {
    const epoch = state.position.epoch;
    if (state.position.step === 0) {
      for (const u of opts.unfreeze ?? []) if (u.epoch === epoch) unfreezeLayers(model, u.layers);
      opts.regularizer?.onEpochStart?.(epoch, { seed: plan.seed, epochs: opts.epochs });
    }

    // The epoch's remaining steps, until the data ends or the signal aborts.
    const batches = epochBatches(opts.data, { epoch, startStep: state.position.step, seed: plan.seed });
    const it = batches[Symbol.asyncIterator]();
    /** The epoch's batch `step`, augmented (augmentation seeds itself from the position only). */
    const fetchBatch = async (step: number): Promise<IteratorResult<TrainBatch>> => {
      const next = await it.next();
      if (!next.done && opts.augment) {
        try {
          augmentBatch(next.value, opts.augment, { seed: plan.seed, epoch, step });
        } catch (error) {
          next.value.xs.dispose();
          next.value.ys.dispose();
          throw error;
        }
      }
      return next;
    };
    // On replicas, the next batch is read and augmented while they compute (parallelTrainStep).
    let ahead: Promise<IteratorResult<TrainBatch>> | undefined;
    const readAhead = (): Promise<void> => {
      if (!ahead) {
        ahead = fetchBatch(state.position.step + 1);
        ahead.catch(() => undefined);
      }
      return ahead.then(
        () => undefined,
        () => undefined,
      );
    };
    try {
      while (!opts.signal?.aborted) {
        await turn();
        const stepStart = now();
        const next = await (ahead ?? fetchBatch(state.position.step));
        ahead = undefined;
        if (next.done) break;
        let step: StepResult;
        try {
          if (memory.pending) await memory.probe(next.value);
          step = await stepWithinMemory(plan, state, next.value, memory, readAhead);
        } finally {
          next.value.xs.dispose();
          next.value.ys.dispose();
        }
        lr = step.lr;
        if (!Number.isFinite(step.loss)) throw new NonFiniteLossError(epoch, state.position.step);
        if (step.outputs) recordDynamics(plan, state, epoch, next.value.ids, step.outputs);
        const seconds = now() - stepStart;
        state.recordStep(step, seconds);
        clock.addStep(step.n, seconds);
        if (opts.onProgress && plan.progressEvery > 0 && state.position.step % plan.progressEvery === 0) {
          await opts.onProgress(stepProgress(plan, state, clock, lr));
        }
        if (opts.checkpoint?.everySteps && state.position.globalStep % opts.checkpoint.everySteps === 0) {
          await saveCheckpoint();
        }
      }
    } finally {
      // A batch read ahead of a step that did not come (cancelled, or the step failed).
      const unused = await ahead?.catch(() => undefined);
      if (unused && !unused.done) {
        unused.value.xs.dispose();
        unused.value.ys.dispose();
      }
      await it.return?.(undefined);
    }
    if (opts.signal?.aborted) {
      status = 'cancelled';
      break;
    }

    // The epoch's end: validation, early stopping, checkpoint, progress.
    const log = await epochLog(plan, state, epoch, lr);
    state.closeEpoch(log);
    if (earlyStoppingSaysStop(plan, state, log)) {
      status = 'early-stopped';
      state.finished = 'early-stopped';
    }
    if (state.finished === null && state.position.epoch >= opts.epochs) state.finished = 'completed';
    const everyEpochs = opts.checkpoint?.everyEpochs ?? 1;
    if (state.finished !== null || (everyEpochs > 0 && state.position.epoch % everyEpochs === 0)) {
      await saveCheckpoint();
    }
    if (opts.onProgress) await opts.onProgress(epochProgress(plan, state, clock, log));
  }

  if (status === 'cancelled' && opts.checkpoint?.onCancel !== false) await saveCheckpoint();
  const bestWeights = state.bestWeights;
  const restoredBestWeights =
    status !== 'cancelled' && bestWeights !== null && (opts.earlyStopping?.restoreBestWeights ?? true);
  if (restoredBestWeights) plan.weights.forEach((w, i) => w.write(bestWeights[i]));
  const { best, bestEpoch } = state.early;
  return {
    status,
    position: state.position,
    history: state.history,
    best:
      plan.early && best !== null
        ? { epoch: bestEpoch, monitor: plan.early.monitor, value: best }
        : undefined,
    restoredBestWeights,
    resumedFrom,
    checkpointSaved,
    seconds: clock.elapsed(),
    samplesPerSec: clock.samplesPerSec(),
    ...(memory.microBatch !== undefined ? { microBatch: memory.microBatch } : {}),
    ...(state.dynamics ? { dynamics: state.dynamics.values() } : {}),
  };
}

/** Adds a step's outputs to the run's training dynamics (the tracker is made at the first step). */
function recordDynamics(
  plan: RunPlan,
  state: TrainingState,
  epoch: number,
  ids: Int32Array | undefined,
  outputs: NonNullable<StepResult['outputs']>,
): void {
  const samples = plan.opts.dynamics?.samples ?? 0;
  if (!ids || ids.length !== outputs.labels.length)
    throw new TrainConfigError('training dynamics need every training batch to carry one id per sample');
  state.dynamics ??= new TrainingDynamics(samples, outputs.classes);
  if (state.dynamics.samples !== samples || state.dynamics.classes !== outputs.classes)
    throw new TrainConfigError(
      `training dynamics: the run tracks ${samples} samples x ${outputs.classes} classes, its checkpoint ${state.dynamics.samples} x ${state.dynamics.classes}`,
    );
  state.dynamics.record(epoch, ids, outputs.labels, outputs.values, plan.opts.outputs === 'logits');
}

/**
 * The step, retried on slices half as large when it runs out of memory (the same update: gradients
 * accumulate over the slices). Gives up with a TrainOutOfMemoryError at one sample per slice, or when
 * the backend no longer computes (an aborted wasm module).
 */
async function stepWithinMemory(
  plan: RunPlan,
  state: TrainingState,
  batch: TrainBatch,
  memory: MemoryFit,
  /** Work for this thread while replicas compute (reading the next batch ahead). */
  whileReplicasCompute?: () => Promise<void>,
): Promise<StepResult> {
  const n = batch.xs.shape[0] ?? 0;
  const rng = state.rng.state();
  for (;;) {
    try {
      const replicas = plan.opts.replicas;
      // A regularizer that replaces the forward pass (BSS, DELTA) exists on this thread only: the
      // replicas would compute their rows' gradients without its penalty, so the step stays here.
      if (!(replicas && replicas.size > 0) || plan.opts.regularizer?.forward)
        return trainStep(plan, state, batch, memory.microBatch);
      return await parallelTrainStep(plan, state, batch, replicas, memory.microBatch, whileReplicasCompute);
    } catch (error) {
      if (!isOutOfMemoryError(error)) throw error;
      const current = Math.min(memory.microBatch ?? n, n);
      const usable = backendStillWorks();
      if (!usable || current <= 1) throw new TrainOutOfMemoryError(n, current, usable, { cause: error });
      // Dropout of the retry draws what the failed attempt drew.
      state.rng.setState(rng);
      await memory.reduce(n, Math.ceil(current / 2));
    }
  }
}

/** Continues from the run's checkpoint when there is one (and resuming is on): where it started. */
async function resume(plan: RunPlan, state: TrainingState): Promise<TrainPosition | undefined> {
  const ck = plan.opts.checkpoint;
  if (!ck || ck.resume === false) return undefined;
  const bytes = await ck.store.load(ck.key);
  if (!bytes) return undefined;
  state.restore(decodeTrainingCheckpoint(bytes), plan.model, plan.weights);
  return { ...state.position };
}

/** The log of the epoch in progress (its sums, then validation in inference mode). */
async function epochLog(plan: RunPlan, state: TrainingState, epoch: number, lr: number): Promise<EpochLog> {
  const a = state.accum;
  const log: EpochLog = {
    epoch,
    loss: a.samples ? a.lossSum / a.samples : NaN,
    accuracy: a.samples ? a.correct / a.samples : NaN,
    lr,
    steps: a.steps,
    samples: a.samples,
    seconds: a.seconds,
  };
  const { validation } = plan.opts;
  if (validation) {
    const req = { epoch, startStep: 0, seed: plan.seed };
    const v = await evaluateLossAccuracy(plan.model, validation, req, plan.valLossFn);
    log.val_loss = v.loss;
    log.val_accuracy = v.accuracy;
  }
  return log;
}
