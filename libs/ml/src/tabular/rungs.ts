/**
 * Early stopping of a job's GBDT trials on rungs of boosting iterations (successive halving in the
 * way of ASHA, Li et al. 2020, with one survivor per rung): a GBDT trial that is not the job's first
 * stops at rung r (after r iterations) when its lowest validation loss so far is higher than every
 * earlier GBDT trial's lowest validation loss by iteration r. Such a trial keeps the model it had (its
 * best iteration so far) and is reported as stopped at that rung; it can still be chosen, by the same
 * rule as any trial, but it was behind every earlier trial at the same point of training.
 *
 * Trials are compared at equal iterations, so a setting that learns slowly (a low learning rate) is
 * stopped even when it would have caught up later: the known bias of successive halving, accepted for
 * the compute it saves.
 */
export const TABULAR_RUNGS: readonly number[] = [10, 30];

export class GbdtRungs {
  /** Per rung: the lowest best-so-far validation loss any recorded trial had by that iteration. */
  private readonly best: number[];

  constructor(readonly rungs: readonly number[] = TABULAR_RUNGS) {
    this.best = rungs.map(() => Infinity);
  }

  /** Whether any trial has been recorded (the first GBDT trial of a job runs without stopping). */
  get empty(): boolean {
    return this.best.every((b) => b === Infinity);
  }

  /**
   * Records a finished trial's validation losses by iteration (`curve[i]` after iteration i + 1). A
   * trial that stopped before a rung (early stopping, or a rung) counts at that rung with the lowest
   * loss it reached: its model does not change after it stops.
   */
  record(curve: ArrayLike<number>): void {
    if (curve.length === 0) return;
    let low = Infinity;
    let i = 0;
    this.rungs.forEach((r, k) => {
      for (; i < Math.min(r, curve.length); i++) if (curve[i] < low) low = curve[i];
      if (low < this.best[k]) this.best[k] = low;
    });
  }

  /**
   * Whether a trial whose lowest validation loss after `iteration` iterations is `lowest` stops
   * there: `iteration` is a rung and some earlier trial was lower by then.
   */
  stops(iteration: number, lowest: number): boolean {
    const k = this.rungs.indexOf(iteration);
    return k >= 0 && lowest > this.best[k];
  }
}
