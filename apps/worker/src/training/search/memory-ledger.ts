import type { LedgerTrial, TrialLedger } from './search-runner';

/** An in-memory {@link TrialLedger} and what it was told, for unit specs and benches. */
export interface MemoryLedger extends TrialLedger {
  rows: LedgerTrial[];
  /** Trials whose finish was recorded, in order. */
  finishes: number[];
  /** Trials made the job's model, in order. */
  chosen: number[];
  /** Trials whose model files were released, in order. */
  released: number[];
}

/**
 * The trial ledger's rules without Postgres (the product's is `trialLedger`, over the trials table):
 * a start returns an existing row as is, progress and finish add cost, a finish ends only a RUNNING or
 * PENDING row (false otherwise), a release clears the row's model prefix.
 */
export function memoryLedger(): MemoryLedger {
  const rows: LedgerTrial[] = [];
  const finishes: number[] = [];
  const chosen: number[] = [];
  const released: number[] = [];
  const row = (index: number) => rows.find((x) => x.index === index);
  return {
    rows,
    finishes,
    chosen,
    released,
    all: () => Promise.resolve(rows.map((r) => ({ ...r }))),
    start: (index, params, status = 'RUNNING') => {
      let r = row(index);
      if (!r) rows.push((r = { index, status, params, metrics: null, costSeconds: 0, artifactPrefix: null }));
      return Promise.resolve({ ...r });
    },
    progress: (index, _curves, costSeconds) => {
      const r = row(index);
      if (r) r.costSeconds += Math.max(0, costSeconds);
      return Promise.resolve();
    },
    finish: (index, f) => {
      const r = rows.find((x) => x.index === index && (x.status === 'RUNNING' || x.status === 'PENDING'));
      if (!r) return Promise.resolve(false);
      finishes.push(index);
      Object.assign(r, { status: f.status, metrics: f.metrics, artifactPrefix: f.artifactPrefix ?? null });
      r.costSeconds += Math.max(0, f.costSeconds);
      return Promise.resolve(true);
    },
    choose: (index) => Promise.resolve(void chosen.push(index)),
    release: (index) => {
      released.push(index);
      const r = row(index);
      if (r) r.artifactPrefix = null;
      return Promise.resolve();
    },
  };
}
