import { sampleAt, SMALL_TABLE_ROWS, type SearchSpace, type TabularSlot } from '@modelsmith/ml';
import {
  TABULAR_SEARCH_MIN_VALIDATION_ROWS,
  tabularTrialPlan,
  type TabularCandidateName,
} from '@modelsmith/ml/catalogue';

/** The tabular task's search space for sampled GBDT trials. */
export const TABULAR_GBDT_SPACE: SearchSpace = {
  learningRate: { kind: 'loguniform', min: 0.03, max: 0.3 },
  maxLeaves: { kind: 'choice', values: [7, 15, 31, 63] },
  minSamplesLeaf: { kind: 'choice', values: [2, 5, 10, 20, 40] },
  l2: { kind: 'choice', values: [0, 0.1, 1, 10] },
};

/** One slot of a tabular job's plan: a candidate by name, with sampled GBDT settings or not. */
export type { TabularSlot } from '@modelsmith/ml';
// The worker and the bench run a slot with this (libs/ml tabular job-trial.ts).
export { trainTabularTrial } from '@modelsmith/ml';

/**
 * The trials of a tabular job in order: the model choice's candidates (tabularCandidates), then in
 * mode 'auto' (unless only the linear model is asked for) TABULAR_SEARCH_EXTRA_TRIALS GBDT
 * configurations drawn from TABULAR_GBDT_SPACE (seeded). Deterministic for its arguments.
 */
export function tabularSearchPlan(
  choice: 'auto' | 'gbdt' | 'linear',
  mode: string,
  seed: number,
): TabularSlot[] {
  // The order and names are the catalogue's plan (the estimate prices the same trials); each sampled
  // slot (priced as measured 'gbdt') gets its seeded settings here.
  let k = 0;
  return tabularTrialPlan(choice, mode).map((c): TabularSlot => {
    if (!c.measuredAs) return { name: c.name, base: c.kind as TabularCandidateName };
    const p = sampleAt(TABULAR_GBDT_SPACE, seed, k++);
    return {
      name: c.name,
      base: 'gbdt',
      gbdt: {
        learningRate: Number(p.learningRate),
        maxLeaves: Number(p.maxLeaves),
        minSamplesLeaf: Number(p.minSamplesLeaf),
        l2: Number(p.l2),
      },
    };
  });
}

/**
 * Whether plan slot `slot` runs on a table of `rows` training and `validationRows` validation rows
 * (false: the job skips it): `gbdt_small` only up to SMALL_TABLE_ROWS training rows (unless it is the
 * first slot), the sampled GBDT configurations only from TABULAR_SEARCH_MIN_VALIDATION_ROWS validation
 * rows (below that they fit the validation split's noise; catalogue record-plans.ts).
 */
export function tabularSlotRuns(
  s: TabularSlot,
  slot: number,
  table: { rows: number; validationRows: number },
): boolean {
  if (s.name === 'gbdt_small' && slot > 0 && table.rows > SMALL_TABLE_ROWS) return false;
  if (s.name.startsWith('gbdt_search_') && table.validationRows < TABULAR_SEARCH_MIN_VALIDATION_ROWS)
    return false;
  return true;
}

/** Ingestion warnings about columns and the target, carried into the model's report. */
const DATASET_WARNINGS = new Set(['missing_values', 'constant_column', 'target_high_cardinality']);

/**
 * The ingestion warnings a tabular model's report carries: the column warnings, and `possible_leakage`
 * only when the job predicts the upload's own target (ingestion checked leakage against that column;
 * for a target chosen at job time training's own check applies).
 */
export function carriedDatasetWarnings<W extends { code: string }>(
  warnings: readonly W[],
  jobTarget: string,
  uploadTarget: string | undefined,
): W[] {
  return warnings.filter(
    (w) => DATASET_WARNINGS.has(w.code) || (w.code === 'possible_leakage' && jobTarget === uploadTarget),
  );
}
