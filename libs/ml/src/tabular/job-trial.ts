import type { GbdtRungs } from './rungs';
import {
  trainTabular,
  type CandidateName,
  type PreparedTabular,
  type TrainTabularOptions,
  type TrainTabularResult,
} from './train-tabular';

/** One trial of a tabular job: a candidate by name, with sampled GBDT settings or not. */
export interface TabularSlot {
  name: string;
  base: CandidateName;
  gbdt?: { learningRate: number; maxLeaves: number; minSamplesLeaf: number; l2: number };
}

/**
 * One trial of a tabular job, as apps/worker runs it (and bench/tabular-vs-sklearn.ts times it): the
 * slot's candidate through trainTabular on the job's shared preparation, a GBDT stopped on a rung
 * where it is behind the job's earlier GBDT trials (`rungs`), then its validation curve recorded in
 * `rungs` for the trials after it.
 */
export async function trainTabularTrial(
  common: Omit<TrainTabularOptions, 'prepared' | 'candidates' | 'gbdt' | 'rungs' | 'onIteration'>,
  prepared: PreparedTabular,
  slot: TabularSlot,
  rungs: GbdtRungs,
  onIteration?: TrainTabularOptions['onIteration'],
): Promise<TrainTabularResult> {
  const curve: number[] = [];
  const result = await trainTabular({
    ...common,
    prepared,
    candidates: [slot.base],
    ...(slot.gbdt ? { gbdt: slot.gbdt } : {}),
    rungs,
    onIteration: (it) => {
      if (it.validLoss !== undefined) curve.push(it.validLoss);
      onIteration?.(it);
    },
  });
  if (slot.base !== 'linear') rungs.record(curve);
  return result;
}
