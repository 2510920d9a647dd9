import { chooseTabularTrial } from './tabular-train.service';

const trial = (index: number, family: string, validationLoss: number, validationLossSE?: number) => ({
  index,
  params: { candidate: family === 'linear' ? 'linear' : `gbdt_${index}`, family },
  metrics: { validationLoss, ...(validationLossSE !== undefined ? { validationLossSE } : {}) },
});

describe('chooseTabularTrial', () => {
  it('takes the linear trial within one standard error of the lowest validation loss', () => {
    const t = [
      trial(0, 'linear', 0.1452, 0.1144),
      trial(1, 'gbdt', 0.1395, 0.077),
      trial(2, 'gbdt', 0.1219, 0.0856),
    ];
    expect(chooseTabularTrial(t)?.index).toBe(0);
  });

  it('takes the lowest loss when the linear trial is further away, or when standard errors are missing', () => {
    expect(chooseTabularTrial([trial(0, 'linear', 0.17, 0.05), trial(1, 'gbdt', 0.06, 0.02)])?.index).toBe(1);
    expect(chooseTabularTrial([trial(0, 'linear', 0.2), trial(1, 'gbdt', 0.19)])?.index).toBe(1);
  });

  it('is undefined without a trial that has a validation loss', () => {
    expect(chooseTabularTrial([])).toBeUndefined();
    expect(chooseTabularTrial([{ index: 0, params: { family: 'gbdt' }, metrics: null }])).toBeUndefined();
  });
});
