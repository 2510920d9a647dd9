import { TrainConfigError } from './errors';
import type { RunPlan } from './run-plan';
import type { TrainingState } from './training-state';
import type { EpochLog } from './types';

/**
 * Early stopping's rule after an epoch: an improvement of the monitored metric (by more than
 * `minDelta`) resets the wait and, with `restoreBestWeights`, keeps the weights; otherwise the wait
 * grows. Returns true when it reaches `patience`: the run should stop.
 */
export function earlyStoppingSaysStop(plan: RunPlan, state: TrainingState, log: EpochLog): boolean {
  if (!plan.early) return false;
  const { options, monitor, mode } = plan.early;
  const value = log[monitor];
  if (value === undefined || Number.isNaN(value))
    throw new TrainConfigError(`metric '${monitor}' is not available`);
  const delta = options.minDelta ?? 0;
  const best = state.early.best;
  const improved = best === null || (mode === 'min' ? value < best - delta : value > best + delta);
  if (improved) {
    state.early = { best: value, bestEpoch: log.epoch, wait: 0 };
    if (options.restoreBestWeights ?? true) state.keepBestWeights(plan.weights);
    return false;
  }
  state.early = { ...state.early, wait: state.early.wait + 1 };
  return state.early.wait >= (options.patience ?? 3);
}
