import { GbdtRungs, prepareTabular, SMALL_TABLE_ROWS, syntheticTable } from '@modelsmith/ml';
import {
  TABULAR_SEARCH_EXTRA_TRIALS,
  TABULAR_SEARCH_MIN_VALIDATION_ROWS,
  tabularTrialPlan,
} from '@modelsmith/ml/catalogue';
import {
  carriedDatasetWarnings,
  tabularSearchPlan,
  tabularSlotRuns,
  trainTabularTrial,
} from './tabular-plan';

describe('tabularSearchPlan (the trials of a tabular job)', () => {
  it("follows the candidates with seeded GBDT settings in mode 'auto' only", () => {
    const plan = tabularSearchPlan('auto', 'auto', 5);
    expect(plan.map((s) => s.name)).toEqual([
      'linear',
      'gbdt',
      'gbdt_small',
      ...Array.from({ length: TABULAR_SEARCH_EXTRA_TRIALS }, (_, k) => `gbdt_search_${k + 1}`),
    ]);
    expect(tabularSearchPlan('auto', 'auto', 5)).toEqual(plan);
    expect(tabularSearchPlan('auto', 'auto', 6).slice(3)).not.toEqual(plan.slice(3));
    for (const s of plan.slice(3)) {
      expect(s.base).toBe('gbdt');
      expect(s.gbdt!.learningRate).toBeGreaterThanOrEqual(0.03);
      expect(s.gbdt!.learningRate).toBeLessThanOrEqual(0.3);
      expect([7, 15, 31, 63]).toContain(s.gbdt!.maxLeaves);
      expect([2, 5, 10, 20, 40]).toContain(s.gbdt!.minSamplesLeaf);
      expect([0, 0.1, 1, 10]).toContain(s.gbdt!.l2);
    }
    expect(tabularSearchPlan('auto', 'fast', 5).map((s) => s.name)).toEqual(['linear', 'gbdt']);
    expect(tabularSearchPlan('linear', 'auto', 5).map((s) => s.name)).toEqual(['linear']);
    expect(tabularSearchPlan('gbdt', 'auto', 5).map((s) => s.base)).toEqual([
      'gbdt',
      'gbdt_small',
      ...Array<string>(TABULAR_SEARCH_EXTRA_TRIALS).fill('gbdt'),
    ]);
  });
});

describe('tabularTrialPlan (what estimates count) against tabularSearchPlan (what the worker runs)', () => {
  it('lists the same trials, sampled ones priced as gbdt, and keeps the first maxTrials', () => {
    for (const mode of ['fast', 'auto', 'balanced', 'best'])
      for (const choice of ['auto', 'gbdt', 'linear'] as const) {
        const planned = tabularSearchPlan(choice, mode, 3);
        const counted = tabularTrialPlan(choice, mode);
        expect(counted.map((c) => c.name)).toEqual(planned.map((s) => s.name));
        expect(counted.map((c) => c.measuredAs ?? c.name)).toEqual(planned.map((s) => s.base));
      }
    expect(tabularTrialPlan('auto', 'auto', undefined, 2).map((c) => c.name)).toEqual(['linear', 'gbdt']);
    expect(tabularTrialPlan('auto', 'auto', ['linear', 'gbdt']).map((c) => c.name)).toEqual([
      'linear',
      'gbdt',
      ...Array.from({ length: TABULAR_SEARCH_EXTRA_TRIALS }, (_, k) => `gbdt_search_${k + 1}`),
    ]);
  });
});

describe('tabularSlotRuns (which slots of the plan a table runs)', () => {
  const plan = tabularSearchPlan('auto', 'auto', 1);
  const runs = (rows: number, validationRows: number) =>
    plan.filter((s, i) => tabularSlotRuns(s, i, { rows, validationRows })).map((s) => s.name);
  const sampled = Array.from({ length: TABULAR_SEARCH_EXTRA_TRIALS }, (_, k) => `gbdt_search_${k + 1}`);
  it('runs the sampled settings only from the minimum of validation rows, gbdt_small only on small tables', () => {
    const v = TABULAR_SEARCH_MIN_VALIDATION_ROWS;
    expect(runs(455, v - 1)).toEqual(['linear', 'gbdt', 'gbdt_small']);
    expect(runs(1439, v)).toEqual(['linear', 'gbdt', 'gbdt_small', ...sampled]);
    expect(runs(SMALL_TABLE_ROWS + 1, 642)).toEqual(['linear', 'gbdt', ...sampled]);
    expect(runs(SMALL_TABLE_ROWS + 1, v - 1)).toEqual(['linear', 'gbdt']);
    // gbdt_small as the first slot (tabularModel gbdt in mode fast has none; gbdt in mode auto: second).
    const gbdtOnly = tabularSearchPlan('gbdt', 'balanced', 1);
    expect(
      gbdtOnly.filter((s, i) => tabularSlotRuns(s, i, { rows: 5000, validationRows: 50 })).map((s) => s.name),
    ).toEqual(['gbdt']);
  });

  it('matches what the estimate counts for the same validation rows (tabularTrialPlan)', () => {
    for (const validationRows of [20, TABULAR_SEARCH_MIN_VALIDATION_ROWS, 600])
      expect(
        tabularTrialPlan('auto', 'auto', undefined, undefined, validationRows).map((c) => c.name),
      ).toEqual(runs(500, validationRows));
  });
});

describe('trainTabularTrial (one trial as the worker runs it)', () => {
  it('records a GBDT trial in the rungs for the trials after it, not a linear one', async () => {
    const rows = syntheticTable('classification', 2, 250, 7);
    const common = {
      train: { rows: rows.slice(0, 200) },
      validation: { rows: rows.slice(200) },
      target: 'y',
      task: 'classification' as const,
      classes: ['c0', 'c1'],
    };
    const prepared = prepareTabular(common);
    const plan = tabularSearchPlan('auto', 'auto', 1);
    const rungs = new GbdtRungs([3]);
    const linear = await trainTabularTrial(common, prepared, plan[0], rungs);
    expect(linear.artifact.model.type).toBe('linear');
    expect(rungs.empty).toBe(true);
    const gbdt = await trainTabularTrial(common, prepared, plan[1], rungs);
    expect(gbdt.artifact.model.type).toBe('gbdt');
    expect(rungs.empty).toBe(false);
    expect(rungs.stops(3, Infinity)).toBe(true);
  });
});

describe('carriedDatasetWarnings (ingestion warnings in a tabular model report)', () => {
  const warnings = [
    { code: 'missing_values', subject: 'area' },
    { code: 'possible_leakage', subject: 'price_k' },
    { code: 'duplicates_found' },
  ];
  it('carries leakage found against the upload target only when the job predicts that target', () => {
    expect(carriedDatasetWarnings(warnings, 'price', 'price').map((w) => w.code)).toEqual([
      'missing_values',
      'possible_leakage',
    ]);
    expect(carriedDatasetWarnings(warnings, 'sold', 'price').map((w) => w.code)).toEqual(['missing_values']);
  });
});
