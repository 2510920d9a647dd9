import { textCandidatePlan } from '@modelsmith/ml/catalogue';
import { textRecipe } from './text-classification';

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
