/** Values the trainer, its state and its checkpoint codec share (no tfjs here). */

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

export type TrainStatus = 'completed' | 'early-stopped' | 'cancelled';

/** Running sums of the epoch in progress. */
export interface EpochAccum {
  steps: number;
  lossSum: number;
  correct: number;
  samples: number;
  seconds: number;
}

/** Early stopping's memory: the best monitored value so far, its epoch, epochs since. */
export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number;
  wait: number;
}
