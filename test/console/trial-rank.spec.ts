import { rankTrials, trialMetric } from '../../apps/console/src/trial-rank';

describe('console trial ranking', () => {
  it('ranks text trials by validation macro-F1, not accuracy', () => {
    const trials = [
      { id: 'a', metrics: { validationAccuracy: 0.6, validationMacroF1: 0.4 } },
      { id: 'b', metrics: { validationAccuracy: 0.5, validationMacroF1: 0.55 } },
      { id: 'c', metrics: null },
    ];
    const m = trialMetric(trials);
    expect(m.key).toBe('validationMacroF1');
    expect(rankTrials(trials, m).map((t) => t.id)).toEqual(['b', 'a', 'c']);
  });

  it('ranks tabular trials by validation loss, lowest first (regression has no accuracy)', () => {
    const trials = [
      { id: 'linear', metrics: { validationLoss: 0.3, validationAccuracy: 0.9 } },
      { id: 'running', metrics: {} },
      { id: 'gbdt', metrics: { validationLoss: 0.2, validationAccuracy: 0.88 } },
      { id: 'reg', metrics: { validationLoss: 0.25, validationR2: 0.5 } },
    ];
    const m = trialMetric(trials);
    expect(m).toMatchObject({ key: 'validationLoss', higherIsBetter: false, percent: false });
    expect(rankTrials(trials, m).map((t) => t.id)).toEqual(['gbdt', 'reg', 'linear', 'running']);
  });

  it('ranks image trials by validation accuracy (older rows: accuracy)', () => {
    const trials = [
      { id: 'x', metrics: { accuracy: 0.7 } },
      { id: 'y', metrics: { validationAccuracy: 0.8 } },
    ];
    const m = trialMetric(trials);
    expect(m.key).toBe('validationAccuracy');
    expect(rankTrials(trials, m).map((t) => t.id)).toEqual(['y', 'x']);
    expect(trialMetric([]).key).toBe('validationAccuracy');
  });
});
