import type { TrainProgress } from './options';
import type { RunPlan } from './run-plan';
import type { TrainingState } from './training-state';
import type { EpochLog } from './types';

export function now(): number {
  return performance.now() / 1000;
}

/** Wall time and throughput of one {@link train} call (a resumed run counts only its own steps). */
export class RunClock {
  private samples = 0;
  private trainSeconds = 0;
  private steps = 0;

  constructor(
    readonly t0: number,
    private readonly totalSteps: number | undefined,
  ) {}

  addStep(samples: number, seconds: number): void {
    this.samples += samples;
    this.trainSeconds += seconds;
    this.steps++;
  }

  elapsed(): number {
    return now() - this.t0;
  }

  samplesPerSec(): number {
    return this.trainSeconds > 0 ? this.samples / this.trainSeconds : 0;
  }

  /** Seconds to the run's end at this call's pace, when the run length is known. */
  eta(globalStep: number): number | undefined {
    if (this.totalSteps === undefined || this.steps === 0) return undefined;
    return Math.max(0, ((this.totalSteps - globalStep) * this.trainSeconds) / this.steps);
  }
}

/** Progress after a step: the epoch so far. */
export function stepProgress(
  plan: RunPlan,
  state: TrainingState,
  clock: RunClock,
  lr: number,
): TrainProgress {
  const { position: p, accum: a } = state;
  return {
    kind: 'step',
    epoch: p.epoch,
    epochs: plan.opts.epochs,
    step: p.step,
    stepsPerEpoch: plan.stepsPerEpoch,
    globalStep: p.globalStep,
    totalSteps: plan.totalSteps,
    loss: a.lossSum / a.samples,
    metrics: { accuracy: a.correct / a.samples },
    lr,
    samplesPerSec: clock.samplesPerSec(),
    etaSeconds: clock.eta(p.globalStep),
    elapsedSeconds: clock.elapsed(),
  };
}

/** Progress at the end of an epoch (with its validation metrics). */
export function epochProgress(
  plan: RunPlan,
  state: TrainingState,
  clock: RunClock,
  log: EpochLog,
): TrainProgress {
  const metrics: Record<string, number> = { accuracy: log.accuracy };
  if (log.val_loss !== undefined) metrics.val_loss = log.val_loss;
  if (log.val_accuracy !== undefined) metrics.val_accuracy = log.val_accuracy;
  return {
    kind: 'epoch',
    epoch: log.epoch,
    epochs: plan.opts.epochs,
    step: log.steps,
    stepsPerEpoch: plan.stepsPerEpoch,
    globalStep: state.position.globalStep,
    totalSteps: plan.totalSteps,
    loss: log.loss,
    metrics,
    lr: log.lr,
    samplesPerSec: clock.samplesPerSec(),
    etaSeconds: clock.eta(state.position.globalStep),
    elapsedSeconds: clock.elapsed(),
  };
}
