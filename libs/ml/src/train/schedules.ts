import { TrainConfigError } from './errors';

/**
 * Learning-rate schedules. A schedule maps the global step (0-based) to a multiplier of the base
 * learning rate; `warmupSteps` (any schedule) ramps the multiplier linearly from ~0 to the schedule's
 * value over the first steps.
 */
export type LrSchedule =
  | { type: 'constant'; warmupSteps?: number }
  /** Cosine decay from 1 to `minFactor` (default 0) over `totalSteps` (default: the whole run). */
  | { type: 'cosine'; warmupSteps?: number; totalSteps?: number; minFactor?: number }
  /** Linear decay from 1 to `minFactor` (default 0) over `totalSteps` (default: the whole run). */
  | { type: 'linear'; warmupSteps?: number; totalSteps?: number; minFactor?: number }
  /** Multiply by `gamma` every `everySteps` steps (or `everyEpochs` epochs). */
  | { type: 'step'; warmupSteps?: number; gamma: number; everySteps?: number; everyEpochs?: number };

export interface ScheduleContext {
  /** Steps in the whole run, when known (needed by cosine/linear without `totalSteps`). */
  totalSteps?: number;
  /** Steps per epoch, when known (needed by `step` with `everyEpochs`). */
  stepsPerEpoch?: number;
}

/** Multiplier of the base learning rate at `step` (0-based global step). */
export function lrFactor(schedule: LrSchedule, step: number, ctx: ScheduleContext = {}): number {
  const warmup = schedule.warmupSteps ?? 0;
  if (warmup < 0 || !Number.isFinite(warmup))
    throw new TrainConfigError('lrSchedule.warmupSteps must be >= 0');
  const warm = warmup > 0 && step < warmup ? (step + 1) / warmup : 1;
  let f: number;
  switch (schedule.type) {
    case 'constant':
      f = 1;
      break;
    case 'cosine':
    case 'linear': {
      const total = schedule.totalSteps ?? ctx.totalSteps;
      if (total === undefined || !(total > 0)) {
        throw new TrainConfigError(
          `lrSchedule '${schedule.type}' needs totalSteps (or a data source with stepsPerEpoch)`,
        );
      }
      const minFactor = schedule.minFactor ?? 0;
      const decaySteps = Math.max(1, total - warmup);
      const p = Math.min(1, Math.max(0, (step - warmup) / decaySteps));
      const shape = schedule.type === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * p)) : 1 - p;
      f = minFactor + (1 - minFactor) * shape;
      break;
    }
    case 'step': {
      let every = schedule.everySteps;
      if (every === undefined && schedule.everyEpochs !== undefined) {
        if (!ctx.stepsPerEpoch) {
          throw new TrainConfigError(
            "lrSchedule 'step' with everyEpochs needs a data source with stepsPerEpoch",
          );
        }
        every = schedule.everyEpochs * ctx.stepsPerEpoch;
      }
      if (!every || every <= 0)
        throw new TrainConfigError("lrSchedule 'step' needs everySteps or everyEpochs > 0");
      f = Math.pow(schedule.gamma, Math.floor(step / every));
      break;
    }
  }
  return warm * f;
}
