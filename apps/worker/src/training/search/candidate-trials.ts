import { JobCancelledError, PermanentJobError } from '@modelsmith/jobs';
import type { EpochLog } from '@modelsmith/ml';
import {
  leaderboard,
  type LeaderboardEntry,
  type LedgerTrial,
  type TrialLedger,
  type TrialRank,
  type TrialStatus,
} from './search-runner';

type Json = string | number | boolean | null;
export type CandidateParams = Record<string, Json>;
/** One epoch (or boosting summary) of a trial's run, as the ledger stores curves. */
export type CandidateCurve = { epoch: number; phase: string } & Record<string, number | string>;

/** What a finished candidate trial recorded: validation metrics and where its model was exported. */
export interface CandidateOutcome {
  metrics: Record<string, number | string | null>;
  artifactPrefix: string;
  /** The run's curves when it did not report them through `onCurve` (e.g. boosting iterations). */
  curves?: CandidateCurve[];
}

export interface CandidateSearchInput {
  ledger: TrialLedger;
  /**
   * The configuration of plan slot `slot` (deterministic for the job, so that a restarted search plans
   * the same): its params (recorded on the trial row with `config: slot`), null to skip the slot,
   * undefined when the plan has no more slots.
   */
  planAt(slot: number): CandidateParams | null | undefined;
  /** Most trial rows (finished ones of an earlier attempt included). */
  maxTrials: number;
  /** Date.now() time after which no new trial starts (the first one always does: a job needs a model). */
  deadline?: number;
  /** Seconds a trial of `params` is expected to take from the trials so far (undefined: unknown). */
  estimateSeconds?(trials: LedgerTrial[], params: CandidateParams): number | undefined;
  /** The validation metric that orders the leaderboard and (without `choose`) picks the model. */
  rank: TrialRank;
  /**
   * Picks the model among the succeeded trials (in index order) from their validation metrics
   * (never the test split); undefined: the leaderboard's top.
   */
  choose?(succeeded: LedgerTrial[]): LedgerTrial | undefined;
  signal: AbortSignal;
  /** Trains and validates one configuration, exports its model; PermanentJobError = the trial FAILED. */
  run(
    index: number,
    params: CandidateParams,
    onCurve: (c: CandidateCurve) => Promise<void>,
  ): Promise<CandidateOutcome>;
  onTrial?(t: {
    index: number;
    status: TrialStatus;
    params: CandidateParams;
    message: string;
  }): Promise<void>;
  /**
   * Errors that fail the whole job whatever the configuration (e.g. a target without two classes): the
   * trial is recorded FAILED and the returned error ends the search.
   */
  fatal?(error: unknown): PermanentJobError | undefined;
  /** Deletes trial `i`'s exported model: when the search ends, every trial model but the chosen one's. */
  removeTrialModel?(i: number): Promise<void>;
  now?: () => number;
}

export interface CandidateSearchResult {
  /** Every trial row, in index order. */
  trials: LedgerTrial[];
  /** The trial chosen on validation (recorded as the one whose model the job keeps). */
  best: LedgerTrial;
  /**
   * The finished trials (at most 20): the chosen one first with `chosen: true`, then the others by
   * `rank` (best first).
   */
  leaderboard: LeaderboardEntry[];
  /** Trials run by this attempt (not the ones an earlier attempt finished). */
  ran: number[];
  /** A trial an earlier attempt started and did not finish (run again from its start). */
  resumedTrial?: number;
  /** Slots left out because the budget's deadline had passed or they would not fit in what was left. */
  stoppedByBudget: boolean;
}

const finished = (t: LedgerTrial) => t.status !== 'RUNNING' && t.status !== 'PENDING';
const slotOf = (t: LedgerTrial): number => (typeof t.params.config === 'number' ? t.params.config : -1);

/**
 * The trial machinery of the image search (the `trials` ledger, its leaderboard) for searches whose
 * trials are short in-process fits without checkpoints (text and tabular candidates): plan slots are
 * walked in order, each configuration is recorded RUNNING before it trains and once when it ends, so a
 * search restarted after a crash never re-runs a finished trial and runs an unfinished one again from
 * its start. A trial is started only while the budget lasts (a measured estimate must fit in what is
 * left); the best on validation (by `rank`, never the test split) is chosen in the ledger.
 */
export async function runCandidateTrials(input: CandidateSearchInput): Promise<CandidateSearchResult> {
  const now = input.now ?? Date.now;
  let trials = await input.ledger.all();
  const ran: number[] = [];
  let resumedTrial: number | undefined;
  let stoppedByBudget = false;
  const doneSlots = new Set(trials.filter(finished).map(slotOf));

  for (let slot = 0; ; slot++) {
    input.signal.throwIfAborted();
    if (doneSlots.has(slot)) continue;
    const unfinished = trials.find((t) => !finished(t) && slotOf(t) === slot);
    if (!unfinished && trials.length >= input.maxTrials) break;
    const planned = unfinished ? unfinished.params : input.planAt(slot);
    if (planned === undefined) break;
    if (planned === null) continue;
    const params: CandidateParams = { ...planned, config: slot };
    if (!unfinished && trials.some((t) => t.status === 'SUCCEEDED') && input.deadline !== undefined) {
      const left = (input.deadline - now()) / 1000;
      if (left <= 0) {
        stoppedByBudget = true;
        break;
      }
      if ((input.estimateSeconds?.(trials, params) ?? 0) > left) {
        stoppedByBudget = true;
        continue;
      }
    }
    const index = unfinished?.index ?? (trials.length ? Math.max(...trials.map((t) => t.index)) + 1 : 0);
    if (unfinished) resumedTrial = index;
    await runOne(input, index, params, unfinished !== undefined);
    ran.push(index);
    trials = await input.ledger.all();
  }

  const ranked = leaderboard(trials, trials.length, undefined, input.rank);
  const top = ranked[0];
  const succeeded = trials.filter((t) => t.status === 'SUCCEEDED');
  const best =
    (succeeded.length > 0 ? input.choose?.(succeeded) : undefined) ??
    (top && top.status === 'SUCCEEDED' ? trials.find((t) => t.index === top.trial) : undefined);
  // The chosen trial first and marked (a `choose` rule may take another than the metric's best), then
  // the others in the metric's order.
  const board = best
    ? [
        ...ranked.filter((e) => e.trial === best.index).map((e) => ({ ...e, chosen: true as const })),
        ...ranked.filter((e) => e.trial !== best.index),
      ].slice(0, 20)
    : ranked.slice(0, 20);
  if (!best)
    throw new PermanentJobError(
      'NO_TRIAL_SUCCEEDED',
      `none of the ${trials.length} trials produced a model: ${trials.map((t) => `#${t.index} ${String(t.metrics?.error ?? t.status)}`).join('; ')}`,
    );
  await input.ledger.choose(best.index);
  if (input.removeTrialModel) {
    for (const t of trials)
      if (t.artifactPrefix && t.index !== best.index) {
        await input.removeTrialModel(t.index);
        await input.ledger.release(t.index);
      }
    trials = await input.ledger.all();
  }
  return {
    trials,
    best,
    leaderboard: board,
    ran,
    ...(resumedTrial !== undefined ? { resumedTrial } : {}),
    stoppedByBudget,
  };
}

async function runOne(
  input: CandidateSearchInput,
  index: number,
  params: CandidateParams,
  resumed: boolean,
): Promise<void> {
  const now = input.now ?? Date.now;
  await input.ledger.start(index, params);
  const curves: CandidateCurve[] = [];
  // The ledger stores any per-epoch numbers; its type names the image pipeline's EpochLog.
  const asLogs = () => curves as unknown as Array<EpochLog & { phase: string }>;
  let last = now();
  const costSince = () => {
    const t = now();
    const s = (t - last) / 1000;
    last = t;
    return s;
  };
  await input.onTrial?.({
    index,
    status: 'RUNNING',
    params,
    message: `trial ${index} ${resumed ? 'restarted' : 'started'}: ${describe(params)}`,
  });
  let out: CandidateOutcome;
  try {
    out = await input.run(index, params, async (c) => {
      curves.push(c);
      await input.ledger.progress(index, asLogs(), costSince());
    });
  } catch (error) {
    const fatal = input.fatal?.(error);
    if (fatal) {
      await input.ledger.finish(index, {
        status: 'FAILED',
        metrics: { error: `${fatal.code}: ${fatal.message}` },
        curves: asLogs(),
        costSeconds: costSince(),
      });
      throw fatal;
    }
    if (error instanceof PermanentJobError) {
      await input.ledger.finish(index, {
        status: 'FAILED',
        metrics: { error: `${error.code}: ${error.message}` },
        curves: asLogs(),
        costSeconds: costSince(),
      });
      await input.onTrial?.({
        index,
        status: 'FAILED',
        params,
        message: `trial ${index} failed: ${error.message}`,
      });
      return;
    }
    // A cancel ends the trial with the job; a shutdown leaves it RUNNING for the next attempt.
    const reason: unknown = input.signal.aborted ? input.signal.reason : undefined;
    if (reason instanceof JobCancelledError)
      await input.ledger.finish(index, {
        status: 'PRUNED',
        metrics: { error: 'the job was cancelled' },
        curves: asLogs(),
        costSeconds: costSince(),
      });
    throw error;
  }
  await input.ledger.finish(index, {
    status: 'SUCCEEDED',
    metrics: out.metrics,
    curves: (out.curves ?? curves) as unknown as Array<EpochLog & { phase: string }>,
    costSeconds: costSince(),
    artifactPrefix: out.artifactPrefix,
  });
  const v = out.metrics[input.rank.metric];
  await input.onTrial?.({
    index,
    status: 'SUCCEEDED',
    params,
    message: `trial ${index}: validation ${input.rank.metric} ${typeof v === 'number' ? v.toFixed(4) : String(v)} (${describe(params)})`,
  });
}

function describe(p: CandidateParams): string {
  return Object.entries(p)
    .filter(([k]) => k !== 'config')
    .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v)}`)
    .join(', ');
}

/** Median seconds per trial of the finished trials whose `key` param equals `params[key]`. */
export function medianCost(trials: LedgerTrial[], params: CandidateParams, key: string): number | undefined {
  const costs = trials
    .filter((t) => t.status === 'SUCCEEDED' && t.params[key] === params[key] && t.costSeconds > 0)
    .map((t) => t.costSeconds)
    .sort((a, b) => a - b);
  return costs.length ? costs[Math.floor(costs.length / 2)] : undefined;
}
