import { PermanentJobError } from '@modelsmith/jobs';
import { runCandidateTrials, type CandidateSearchInput } from './candidate-trials';
import { memoryLedger } from './memory-ledger';
import type { TrialLedger } from './search-runner';

/** Validation loss per plan slot (lower is better); slot 2 is skipped, the plan has 6 slots. */
const LOSS = [0.5, 0.3, NaN, 0.2, 0.4, 0.25];

function input(
  ledger: TrialLedger,
  runs: number[],
  over: Partial<CandidateSearchInput> = {},
): CandidateSearchInput {
  let clock = 0;
  return {
    ledger,
    planAt: (slot) => (slot >= LOSS.length ? undefined : slot === 2 ? null : { family: 'f', lr: slot / 10 }),
    maxTrials: 10,
    rank: { metric: 'validationLoss', higherIsBetter: false },
    signal: new AbortController().signal,
    now: () => (clock += 1000),
    run: async (i, params, onCurve) => {
      runs.push(Number(params.config));
      await onCurve({ phase: 'x', epoch: 0, loss: 1 });
      return {
        metrics: { validationLoss: LOSS[Number(params.config)] },
        artifactPrefix: `trials/${i}/`,
      };
    },
    ...over,
  };
}

describe('runCandidateTrials', () => {
  it('walks the plan (skipping null slots), chooses the lowest validation loss, keeps only its model', async () => {
    const ledger = memoryLedger();
    const runs: number[] = [];
    const removed: number[] = [];
    const r = await runCandidateTrials(
      input(ledger, runs, {
        removeTrialModel: (i) => {
          removed.push(i);
          return Promise.resolve();
        },
      }),
    );
    expect(runs).toEqual([0, 1, 3, 4, 5]);
    expect(ledger.rows.map((t) => [t.index, t.params.config])).toEqual([
      [0, 0],
      [1, 1],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
    expect(r.best.index).toBe(2);
    expect(ledger.chosen).toEqual([2]);
    expect(removed).toEqual([0, 1, 3, 4]);
    expect(r.trials.filter((t) => t.artifactPrefix).map((t) => t.index)).toEqual([2]);
    expect(r.leaderboard.map((e) => e.trial)).toEqual([2, 4, 1, 3, 0]);
    expect(r.leaderboard[0]).toMatchObject({ metric: 'validationLoss', value: 0.2, rung: 0, chosen: true });
    expect(r.leaderboard.filter((e) => e.chosen)).toHaveLength(1);
    expect(r.stoppedByBudget).toBe(false);
  });

  it('lets `choose` pick the model among the succeeded trials (listed first, then the metric order)', async () => {
    const ledger = memoryLedger();
    const removed: number[] = [];
    const r = await runCandidateTrials(
      input(ledger, [], {
        // The first succeeded trial (slot 0, loss 0.5), as a rule preferring a simpler model might.
        choose: (succeeded) => succeeded[0],
        removeTrialModel: (i) => {
          removed.push(i);
          return Promise.resolve();
        },
      }),
    );
    expect(r.best.index).toBe(0);
    expect(ledger.chosen).toEqual([0]);
    expect(removed).toEqual([1, 2, 3, 4]);
    expect(r.leaderboard.map((e) => e.trial)).toEqual([0, 2, 4, 1, 3]);
    expect(r.leaderboard[0]).toMatchObject({ trial: 0, chosen: true, value: 0.5 });
    expect(r.leaderboard.filter((e) => e.chosen)).toHaveLength(1);
  });

  it('never re-runs a finished trial after a crash, and runs an unfinished one again under its index', async () => {
    const ledger = memoryLedger();
    const first: number[] = [];
    const crash = new Error('worker killed');
    await expect(
      runCandidateTrials(
        input(ledger, first, {
          run: async (i, params) => {
            first.push(Number(params.config));
            if (Number(params.config) === 3) throw crash;
            return Promise.resolve({
              metrics: { validationLoss: LOSS[Number(params.config)] },
              artifactPrefix: `trials/${i}/`,
            });
          },
        }),
      ),
    ).rejects.toBe(crash);
    expect(ledger.rows.map((t) => t.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'RUNNING']);
    const before = ledger.rows.slice(0, 2).map((t) => ({ ...t }));
    const again: number[] = [];
    const r = await runCandidateTrials(input(ledger, again));
    expect(again).toEqual([3, 4, 5]);
    expect(r.resumedTrial).toBe(2);
    expect(r.ran).toEqual([2, 3, 4]);
    expect(ledger.rows.slice(0, 2)).toEqual(before);
    expect(ledger.rows.map((t) => t.params.config)).toEqual([0, 1, 3, 4, 5]);
    expect(r.best.index).toBe(2);
    // A third attempt finds everything recorded and runs nothing.
    const third: number[] = [];
    expect((await runCandidateTrials(input(ledger, third))).ran).toEqual([]);
    expect(third).toEqual([]);
  });

  it('stops at maxTrials and, once a trial succeeded, starts none that would not fit before the deadline', async () => {
    const capped = memoryLedger();
    await runCandidateTrials(input(capped, [], { maxTrials: 2 }));
    expect(capped.rows).toHaveLength(2);

    // Each trial costs 2 s on the fake clock (start + end); 5 s of budget: a measured 2 s fits until < 2 s are left.
    const ledger = memoryLedger();
    const runs: number[] = [];
    let t = 0;
    const r = await runCandidateTrials(
      input(ledger, runs, {
        now: () => (t += 1000),
        deadline: 7000,
        estimateSeconds: (trials) => trials.find((x) => x.costSeconds > 0)?.costSeconds,
      }),
    );
    expect(r.stoppedByBudget).toBe(true);
    expect(runs.length).toBeLessThan(5);
    expect(runs.length).toBeGreaterThanOrEqual(1);
  });

  it('records FAILED trials, fails the job on fatal errors, and says so when no trial produced a model', async () => {
    const ledger = memoryLedger();
    await expect(
      runCandidateTrials(
        input(ledger, [], {
          run: () => Promise.reject(new PermanentJobError('OOM', 'too big')),
        }),
      ),
    ).rejects.toMatchObject({ code: 'NO_TRIAL_SUCCEEDED' });
    expect(ledger.rows.every((t) => t.status === 'FAILED')).toBe(true);
    expect(ledger.rows[0].metrics).toEqual({ error: 'OOM: too big' });

    const fatal = memoryLedger();
    class DataError extends Error {}
    await expect(
      runCandidateTrials(
        input(fatal, [], {
          run: () => Promise.reject(new DataError('one class')),
          fatal: (e) => (e instanceof DataError ? new PermanentJobError('BAD_TARGET', e.message) : undefined),
        }),
      ),
    ).rejects.toMatchObject({ code: 'BAD_TARGET' });
    expect(fatal.rows.map((t) => t.status)).toEqual(['FAILED']);
  });
});
