import { LeakageSampler } from './leakage';
import type { IndexedSample } from '../shards/shard-index';

describe('LeakageSampler (ingestion side of possible_leakage)', () => {
  it('keeps at most its bound of rows, a seeded sample, and checks the rows the split keeps', () => {
    const sampler = new LeakageSampler(42, 400);
    for (let i = 0; i < 1000; i++) sampler.add(`h${i}`, [String(i % 3), `c${i % 3}`, String(i)]);
    expect(sampler.sampled).toBe(true);
    // Every row is in the split index; the sample holds 400 of them, ~320 train and ~40 validation.
    const samples: IndexedSample[] = Array.from({ length: 1000 }, (_, i) => ({
      shard: 0,
      offset: i,
      label: i % 3,
      split: i % 10 === 0 ? 'validation' : i % 10 === 1 ? 'test' : 'train',
      hash: `h${i}`,
      path: `x:${i}`,
    }));
    const warnings = sampler.warnings({
      header: ['code', 'name', 'row'],
      targetIdx: 0,
      columns: [
        { type: 'numeric', constant: false },
        { type: 'categorical', constant: false },
        { type: 'numeric', constant: false },
      ],
      samples,
      labels: ['0', '1', '2'],
    });
    expect(warnings.map((w) => w.subject)).toEqual(['name']);
    const again = new LeakageSampler(42, 400);
    for (let i = 0; i < 1000; i++) again.add(`h${i}`, [String(i % 3), `c${i % 3}`, String(i)]);
    expect(JSON.stringify(again)).toBe(JSON.stringify(sampler));
  });
});
