import type { TrialStore, TypedTrial } from '@modelsmith/jobs';
import type { LedgerTrial, TrialLedger } from './search-runner';

type StoredCurves = Parameters<TrialStore['progress']>[3]['curves'];

function ledgerTrial(t: TypedTrial): LedgerTrial {
  return {
    index: t.index,
    status: t.status,
    params: t.params,
    metrics: t.metrics,
    costSeconds: t.costSeconds,
    artifactPrefix: t.artifactPrefix,
  };
}

/**
 * A job's trials in Postgres (TrialStore) as the searches' ledger; the job's model id is the job id.
 * `workerId`: the worker training a dispatched trial, whose progress and end count only while it
 * holds the trial (it was its last claimant).
 */
export function trialLedger(
  trials: TrialStore,
  tenantId: string,
  jobId: string,
  workerId?: string,
): TrialLedger {
  const owner = workerId !== undefined ? { workerId } : {};
  return {
    all: async () => (await trials.all(tenantId, jobId)).map(ledgerTrial),
    start: async (i, params, status) => ledgerTrial(await trials.start(tenantId, jobId, i, params, status)),
    progress: (i, curves, costSeconds) =>
      trials.progress(tenantId, jobId, i, {
        curves: curves as unknown as StoredCurves,
        costSeconds,
        ...owner,
      }),
    finish: (i, f) =>
      trials.finish(tenantId, jobId, i, { ...f, curves: f.curves as unknown as StoredCurves, ...owner }),
    choose: (i) => trials.chooseModel(tenantId, jobId, i, jobId),
    release: (i) => trials.releaseArtifacts(tenantId, jobId, i),
  };
}
