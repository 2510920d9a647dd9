import type * as tf from '@tensorflow/tfjs';
import { stepsPerEpochOf } from './batches';
import { TrainConfigError } from './errors';
import { matchesLayer, orderedWeights } from './layers';
import { categoricalCrossentropy } from './losses';
import type { EarlyStoppingOptions, ParamGroup, TrainOptions } from './options';
import { lrFactor, type LrSchedule } from './schedules';

type Monitor = NonNullable<EarlyStoppingOptions['monitor']>;
type LossFn = (ys: tf.Tensor, out: tf.Tensor) => tf.Scalar;

/** Everything {@link train} derives once from its model and options: fixed for the whole run. */
export interface RunPlan {
  model: tf.LayersModel;
  opts: TrainOptions;
  seed: number;
  /** The model's weights in checkpoint order ({@link orderedWeights}). */
  weights: tf.LayerVariable[];
  /** Position in `weights` by weight id. */
  weightIndex: Map<number, number>;
  /** The parameter group of each weight (undefined: the default group). */
  weightGroup: Array<ParamGroup | undefined>;
  stepsPerEpoch?: number;
  totalSteps?: number;
  /** Training loss (with label smoothing when configured). */
  lossFn: LossFn;
  /** Validation loss (never smoothed). */
  valLossFn: LossFn;
  early?: { options: EarlyStoppingOptions; monitor: Monitor; mode: 'min' | 'max' };
  progressEvery: number;
}

/** Checks the options and resolves their defaults; a {@link TrainConfigError} names what is wrong. */
export function planRun(model: tf.LayersModel, opts: TrainOptions): RunPlan {
  validateOptions(opts);
  const stepsPerEpoch = stepsPerEpochOf(opts.data);
  const owned = orderedWeights(model);
  const groups = opts.paramGroups ?? [];
  const early = opts.earlyStopping;
  const monitor = early?.monitor ?? (opts.validation ? 'val_loss' : 'loss');
  if (early && monitor.startsWith('val_') && !opts.validation) {
    throw new TrainConfigError(`earlyStopping.monitor '${monitor}' needs validation data`);
  }
  const weights = owned.map((o) => o.weight);
  return {
    model,
    opts,
    seed: opts.seed ?? 0,
    weights,
    weightIndex: new Map(weights.map((w, i) => [w.id, i])),
    weightGroup: owned.map((o) => groups.find((g) => o.owners.some((l) => matchesLayer(g.layers, l)))),
    stepsPerEpoch,
    totalSteps: stepsPerEpoch !== undefined ? stepsPerEpoch * opts.epochs : undefined,
    lossFn:
      opts.loss ??
      ((ys, out) =>
        categoricalCrossentropy(ys, out, { outputs: opts.outputs, labelSmoothing: opts.labelSmoothing })),
    valLossFn: opts.loss ?? ((ys, out) => categoricalCrossentropy(ys, out, { outputs: opts.outputs })),
    early: early && {
      options: early,
      monitor,
      mode: early.mode ?? (monitor.endsWith('loss') ? 'min' : 'max'),
    },
    progressEvery: opts.progressEverySteps ?? 10,
  };
}

/** Base learning rate (before group scales) of the step `globalStep`. */
export function learningRateAt(plan: RunPlan, globalStep: number): number {
  const schedule: LrSchedule = plan.opts.lrSchedule ?? { type: 'constant' };
  const factor = lrFactor(schedule, globalStep, {
    totalSteps: plan.totalSteps,
    stepsPerEpoch: plan.stepsPerEpoch,
  });
  return (plan.opts.learningRate ?? 1e-3) * factor;
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
  if (
    opts.microBatch !== undefined &&
    opts.microBatch !== 'auto' &&
    !(Number.isInteger(opts.microBatch) && opts.microBatch > 0)
  ) {
    throw new TrainConfigError("microBatch must be a positive integer or 'auto'");
  }
  const ck = opts.checkpoint;
  if (ck && ck.everySteps !== undefined && !(Number.isInteger(ck.everySteps) && ck.everySteps > 0)) {
    throw new TrainConfigError('checkpoint.everySteps must be a positive integer');
  }
}
