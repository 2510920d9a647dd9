import type { AppConfig } from '@modelsmith/config';
import { warmUpTabular, type TabularWarmUpResult } from '@modelsmith/ml/tabular';

/**
 * Starts the tabular warm-up (docs/tabular.md, "Cold start") on the next turn of the event loop
 * unless `WORKER_TABULAR_WARM_UP=off`, and logs how it went. Returns its promise (resolving to null
 * when it failed), or null when it is off.
 */
export function startTabularWarmUp(
  cfg: Pick<AppConfig, 'WORKER_TABULAR_WARM_UP'>,
  log: { log(message: string): void; warn(message: string): void },
  warmUp: () => Promise<TabularWarmUpResult> = warmUpTabular,
): Promise<TabularWarmUpResult | null> | null {
  if (cfg.WORKER_TABULAR_WARM_UP === 'off') {
    log.log('tabular warm-up off (WORKER_TABULAR_WARM_UP=off)');
    return null;
  }
  return new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => warmUp())
    .then(
      (w) => {
        log.log(
          `tabular warm-up: ${w.searches} synthetic searches, ${Math.round(w.cpuMs)} CPU ms (${Math.round(w.wallMs)} ms wall)`,
        );
        return w;
      },
      (e: unknown) => {
        log.warn(`tabular warm-up failed: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      },
    );
}
