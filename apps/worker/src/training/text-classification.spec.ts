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
