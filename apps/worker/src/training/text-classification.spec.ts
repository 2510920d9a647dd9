import { textCandidatePlan, textTrialPlan } from '@modelsmith/ml/catalogue';
import { TEXT_SEARCH_EXTRA_TRIALS, textRecipe, textSearchPlan, textTrialParams } from './text-classification';

describe('textRecipe', () => {
  const names = (r: ReturnType<typeof textRecipe>) => r.candidates.map((c) => c.name);

  it('tries the linear candidates first and the CNN last outside fast mode', () => {
    for (const mode of ['auto', 'balanced', 'best'] as const) {
      const r = textRecipe(mode);
      expect(r.candidates).toHaveLength(5);
      expect(r.candidates.slice(0, 4).every((c) => c.kind !== 'cnn')).toBe(true);
      expect(r.candidates[4].kind).toBe('cnn');
    }
    expect(textRecipe('fast').candidates.every((c) => c.kind !== 'cnn' && c.classWeight === 'balanced')).toBe(
      true,
    );
  });

  it("narrows the families to options.textModel: 'linear' drops the CNN, 'cnn' keeps only it in every mode", () => {
    expect(names(textRecipe('auto', undefined, 'linear'))).toEqual(names(textRecipe('auto')).slice(0, 4));
    for (const mode of ['fast', 'auto', 'balanced', 'best'] as const)
      expect(names(textRecipe(mode, undefined, 'cnn'))).toEqual(['cnn/balanced']);
    expect(textRecipe('fast', 3, 'cnn').maxEpochs).toBe(3);
  });
});

describe('textCandidatePlan (what estimates assume) against textRecipe (what the worker trains)', () => {
  it('lists the same candidates and epochs for every mode and model choice', () => {
    for (const mode of ['fast', 'auto', 'balanced', 'best'] as const)
      for (const choice of ['auto', 'linear', 'cnn'] as const)
        for (const epochs of [undefined, 3]) {
          const r = textRecipe(mode, epochs, choice);
          expect(textCandidatePlan(mode, epochs, choice)).toEqual(
            r.candidates.map((c) => ({
              name: c.name,
              kind: c.kind === 'cnn' ? 'cnn' : 'linear',
              epochs: c.kind === 'cnn' ? Math.min(r.maxEpochs, c.maxEpochs ?? r.maxEpochs) : r.maxEpochs,
            })),
          );
        }
  });
});

describe('textTrialPlan (what estimates count) against textSearchPlan (what the worker runs)', () => {
  it('lists the same trials in the same order, sampled ones priced as the first linear candidate', () => {
    for (const mode of ['fast', 'auto', 'balanced', 'best'] as const)
      for (const choice of ['auto', 'linear', 'cnn'] as const) {
        const planned = textSearchPlan(mode, undefined, choice, 7).candidates;
        const counted = textTrialPlan(mode, undefined, choice);
        expect(counted.map((c) => c.kind)).toEqual(planned.map((c) => (c.kind === 'cnn' ? 'cnn' : 'linear')));
        counted.forEach((c, i) =>
          expect(c.measuredAs ?? c.name).toBe(
            planned[i].name.startsWith('sampled-') ? 'words+chars/balanced' : planned[i].name,
          ),
        );
      }
    expect(textTrialPlan('auto')).toHaveLength(4 + TEXT_SEARCH_EXTRA_TRIALS + 1);
    // budget.maxTrials keeps the first trials (the CNN is the first left out), as the worker does.
    expect(textTrialPlan('auto', undefined, 'auto', 5).map((c) => c.name)).toEqual([
      ...textCandidatePlan('auto')
        .slice(0, 4)
        .map((c) => c.name),
      'sampled-1',
    ]);
  });
});

describe('textSearchPlan (the trials of a text job)', () => {
  it("adds seeded linear configurations between the default linear candidates and the CNN in mode 'auto' only", () => {
    const plan = textSearchPlan('auto', undefined, 'auto', 3);
    const names = plan.candidates.map((c) => c.name);
    expect(names.slice(0, 4)).toEqual(
      textRecipe('auto')
        .candidates.slice(0, 4)
        .map((c) => c.name),
    );
    expect(names.slice(4, 7).every((n) => n.startsWith('sampled-'))).toBe(true);
    expect(plan.candidates[7].kind).toBe('cnn');
    expect(plan.candidates).toHaveLength(4 + TEXT_SEARCH_EXTRA_TRIALS + 1);
    // Deterministic for the seed (a restarted job plans the same), different across seeds.
    expect(textSearchPlan('auto', undefined, 'auto', 3)).toEqual(plan);
    expect(textSearchPlan('auto', undefined, 'auto', 4).candidates.slice(4, 7)).not.toEqual(
      plan.candidates.slice(4, 7),
    );
    for (const c of plan.candidates.slice(4, 7)) {
      const p = textTrialParams(c, plan.maxEpochs);
      expect(p.family).toBe('text-linear');
      expect(p.l2).toBeGreaterThanOrEqual(1e-7);
      expect(p.l2).toBeLessThanOrEqual(1e-4);
      expect([1, 2, 3]).toContain(p.wordNgrams);
      expect(['none', '2-4', '2-5', '3-5']).toContain(p.charNgrams);
      // Sampled trials average as many SGD runs as the default candidates (the trial row says so).
      expect(p.members).toBe(4);
    }
    for (const mode of ['fast', 'balanced', 'best'] as const)
      expect(textSearchPlan(mode, undefined, 'auto', 3)).toEqual(textRecipe(mode));
    expect(textSearchPlan('auto', undefined, 'cnn', 3)).toEqual(textRecipe('auto', undefined, 'cnn'));
    expect(textSearchPlan('auto', undefined, 'linear', 3).candidates.every((c) => c.kind !== 'cnn')).toBe(
      true,
    );
  });
});
