import { TABULAR_SEARCH_EXTRA_TRIALS, tabularTrialPlan } from '@modelsmith/ml/catalogue';
import { carriedDatasetWarnings, tabularSearchPlan } from './tabular-plan';

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
