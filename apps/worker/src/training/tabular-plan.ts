import { sampleAt, type SearchSpace } from '@modelsmith/ml';
import { tabularTrialPlan, type TabularCandidateName } from '@modelsmith/ml/catalogue';

/** The tabular task's search space for sampled GBDT trials. */
export const TABULAR_GBDT_SPACE: SearchSpace = {
  learningRate: { kind: 'loguniform', min: 0.03, max: 0.3 },
  maxLeaves: { kind: 'choice', values: [7, 15, 31, 63] },
  minSamplesLeaf: { kind: 'choice', values: [2, 5, 10, 20, 40] },
  l2: { kind: 'choice', values: [0, 0.1, 1, 10] },
};

/** One slot of a tabular job's plan: a candidate by name, with sampled GBDT settings or not. */
export interface TabularSlot {
  name: string;
  base: TabularCandidateName;
  gbdt?: { learningRate: number; maxLeaves: number; minSamplesLeaf: number; l2: number };
}

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
