/**
 * When to restart a child that died, and when to give up: pure logic, no timers and no processes.
 * Each death within `windowMs` of the latest counts; the n-th such death waits
 * `initialDelayMs * 2^(n-1)` (at most `maxDelayMs`) before the restart, and the `maxDeaths`-th gives up.
 * A child that stays up longer than the window starts again from the first delay.
 */
export interface RestartPolicyOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Deaths within `windowMs` that make the supervisor give up (at least 1). */
  maxDeaths: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxDeaths: 5,
  windowMs: 5 * 60_000,
};

export type RestartDecision =
  | { action: 'restart'; delayMs: number; deathsInWindow: number }
  | { action: 'give-up'; deathsInWindow: number; reason: string };

/** Exponential backoff with a cap: the delay before the restart that follows the n-th recent death (n >= 1). */
export function backoffDelay(
  deathsInWindow: number,
  options: Pick<RestartPolicyOptions, 'initialDelayMs' | 'maxDelayMs'>,
): number {
  const exponent = Math.max(0, deathsInWindow - 1);
  // 2^exponent overflows to Infinity long after it passes any sane cap; min() keeps the cap.
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
}

/** The death history of one child. */
export class RestartPolicy {
  private deaths: number[] = [];

  constructor(private readonly options: RestartPolicyOptions) {
    if (!(options.maxDeaths >= 1)) throw new RangeError('maxDeaths must be at least 1');
    if (!(options.initialDelayMs >= 0 && options.maxDelayMs >= options.initialDelayMs)) {
      throw new RangeError('need 0 <= initialDelayMs <= maxDelayMs');
    }
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  /** Records a death at `nowMs` and says what to do about it. */
  recordDeath(nowMs: number): RestartDecision {
    this.deaths = this.deaths.filter((t) => nowMs - t < this.options.windowMs);
    this.deaths.push(nowMs);
    const deathsInWindow = this.deaths.length;
    if (deathsInWindow >= this.options.maxDeaths) {
      return {
        action: 'give-up',
        deathsInWindow,
        reason: `died ${deathsInWindow} times within ${formatDuration(this.options.windowMs)}`,
      };
    }
    return { action: 'restart', delayMs: backoffDelay(deathsInWindow, this.options), deathsInWindow };
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${+(ms / 1_000).toFixed(1)} s`;
  return `${+(ms / 60_000).toFixed(1)} min`;
}
