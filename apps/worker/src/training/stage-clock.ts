/** Wall-clock and process CPU seconds of one stage of a run (summed over its occurrences). */
export interface StageTime {
  seconds: number;
  /** CPU seconds of the whole process meanwhile (every thread: replica threads included). */
  cpuSeconds: number;
}

/**
 * Where a training run's time goes, stage by stage (backbone load, feature passes, head training,
 * evaluation, export...): each stage's wall-clock seconds and the process's CPU seconds while it ran,
 * so a stage that keeps two cores busy shows about twice its wall time in CPU.
 */
export class StageClock {
  private readonly stages = new Map<string, StageTime>();

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      return await fn();
    } finally {
      const c = process.cpuUsage(c0);
      const s = this.stages.get(name) ?? { seconds: 0, cpuSeconds: 0 };
      s.seconds += (performance.now() - t0) / 1000;
      s.cpuSeconds += (c.user + c.system) / 1e6;
      this.stages.set(name, s);
    }
  }

  /** Every stage timed so far, in the order first timed, rounded to 10 ms. */
  toJSON(): Record<string, StageTime> {
    const r = (v: number) => Math.round(v * 100) / 100;
    return Object.fromEntries(
      [...this.stages].map(([k, v]) => [k, { seconds: r(v.seconds), cpuSeconds: r(v.cpuSeconds) }]),
    );
  }
}
