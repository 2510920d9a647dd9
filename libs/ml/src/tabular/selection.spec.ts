import { lossStandardError, oneStandardErrorChoice } from './selection';

describe('oneStandardErrorChoice', () => {
  it('keeps the lowest loss when no linear candidate is within one standard error', () => {
    expect(
      oneStandardErrorChoice([
        { family: 'linear', loss: 0.17, lossSE: 0.05 },
        { family: 'gbdt', loss: 0.06, lossSE: 0.02 },
        { family: 'gbdt', loss: 0.09, lossSE: 0.03 },
      ]),
    ).toBe(1);
  });

  it('prefers the linear candidate within one standard error of the best (the best one SE decides)', () => {
    // breast_cancer's job on validation: linear 0.1452, best GBDT 0.1219 +- 0.0856.
    const entries = [
      { family: 'linear' as const, loss: 0.1452, lossSE: 0.1144 },
      { family: 'gbdt' as const, loss: 0.1395, lossSE: 0.077 },
      { family: 'gbdt' as const, loss: 0.1219, lossSE: 0.0856 },
    ];
    expect(oneStandardErrorChoice(entries)).toBe(0);
    // Just outside the best's standard error (the linear candidate's own SE does not count).
    entries[0].loss = 0.1219 + 0.0856 + 1e-9;
    expect(oneStandardErrorChoice(entries)).toBe(2);
    entries[0].loss = 0.1219 + 0.0856;
    expect(oneStandardErrorChoice(entries)).toBe(0);
  });

  it('breaks ties by the earlier candidate, skips non-finite losses, and is -1 without any', () => {
    expect(
      oneStandardErrorChoice([
        { family: 'gbdt', loss: 0.3, lossSE: 0 },
        { family: 'gbdt', loss: 0.3, lossSE: 0 },
      ]),
    ).toBe(0);
    expect(
      oneStandardErrorChoice([
        { family: 'linear', loss: NaN, lossSE: 0 },
        { family: 'gbdt', loss: 0.4, lossSE: 0.1 },
      ]),
    ).toBe(1);
    expect(oneStandardErrorChoice([])).toBe(-1);
    expect(oneStandardErrorChoice([{ family: 'gbdt', loss: NaN, lossSE: 0 }])).toBe(-1);
  });

  it('treats a missing or non-finite standard error as 0 (the plain minimum)', () => {
    expect(
      oneStandardErrorChoice([
        { family: 'linear', loss: 0.2, lossSE: 0 },
        { family: 'gbdt', loss: 0.19, lossSE: NaN },
      ]),
    ).toBe(1);
  });
});

describe('lossStandardError', () => {
  it('is the sample standard deviation over sqrt(n) for a mean loss', () => {
    // terms 1, 2, 3, 4: mean 2.5, sample variance 5/3.
    expect(lossStandardError([1, 2, 3, 4], 'mean')).toBeCloseTo(Math.sqrt(5 / 3 / 4), 12);
  });

  it('uses the delta method for an RMSE: SE(mean squared error) / (2 RMSE)', () => {
    const se = [1, 4, 9, 16];
    const mse = 7.5;
    const seMse = Math.sqrt(((1 - mse) ** 2 + (4 - mse) ** 2 + (9 - mse) ** 2 + (16 - mse) ** 2) / 3 / 4);
    expect(lossStandardError(se, 'rmse')).toBeCloseTo(seMse / (2 * Math.sqrt(mse)), 12);
  });

  it('is 0 with fewer than two rows or a zero RMSE', () => {
    expect(lossStandardError([0.5], 'mean')).toBe(0);
    expect(lossStandardError([0, 0, 0], 'rmse')).toBe(0);
  });
});
