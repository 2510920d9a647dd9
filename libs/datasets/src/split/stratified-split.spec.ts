import { splitQuota, stratifiedSplit, type SplitItem } from './stratified-split';
import { DEFAULT_SPLIT_RATIOS, parseSplit } from './split-types';

const items = (counts: number[]): SplitItem[] =>
  counts.flatMap((n, stratum) =>
    Array.from({ length: n }, (_, i) => ({ stratum, key: `k${stratum}-${i}`, fixed: null })),
  );

function tally(result: string[], input: SplitItem[], stratum: number): Record<string, number> {
  const out: Record<string, number> = { train: 0, validation: 0, test: 0 };
  result.forEach((s, i) => {
    if (input[i].stratum === stratum) out[s] += 1;
  });
  return out;
}

describe('stratifiedSplit', () => {
  it('cuts every class 80/10/10', () => {
    const input = items([100, 50, 10]);
    const { splits, tooSmall } = stratifiedSplit(input, DEFAULT_SPLIT_RATIOS, 42);
    expect(tally(splits, input, 0)).toEqual({ train: 80, validation: 10, test: 10 });
    expect(tally(splits, input, 1)).toEqual({ train: 40, validation: 5, test: 5 });
    expect(tally(splits, input, 2)).toEqual({ train: 8, validation: 1, test: 1 });
    expect(tooSmall).toEqual([]);
  });

  it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
    const input = items([40, 40]);
    const a = stratifiedSplit(input, DEFAULT_SPLIT_RATIOS, 7).splits;
    const reversed = [...input].reverse();
    const b = stratifiedSplit(reversed, DEFAULT_SPLIT_RATIOS, 7).splits.reverse();
    expect(b).toEqual(a);
    expect(stratifiedSplit(input, DEFAULT_SPLIT_RATIOS, 8).splits).not.toEqual(a);
  });

  it('keeps user splits and splits only the rest', () => {
    const input = items([20]).map((it, i) => ({ ...it, fixed: i < 5 ? ('test' as const) : null }));
    const { splits } = stratifiedSplit(input, DEFAULT_SPLIT_RATIOS, 1);
    expect(splits.slice(0, 5)).toEqual(['test', 'test', 'test', 'test', 'test']);
    expect(tally(splits, input, 0)).toEqual({ train: 11, validation: 2, test: 7 });
  });

  it('handles classes too small to split sensibly', () => {
    expect(splitQuota(1, DEFAULT_SPLIT_RATIOS)).toEqual({ validation: 0, test: 0 });
    expect(splitQuota(2, DEFAULT_SPLIT_RATIOS)).toEqual({ validation: 0, test: 0 });
    expect(splitQuota(3, DEFAULT_SPLIT_RATIOS)).toEqual({ validation: 1, test: 1 });
    expect(splitQuota(5, DEFAULT_SPLIT_RATIOS)).toEqual({ validation: 1, test: 1 });
    expect(splitQuota(5, { train: 0.8, validation: 0.2, test: 0 })).toEqual({ validation: 1, test: 0 });
    const { tooSmall } = stratifiedSplit(items([30, 2]), DEFAULT_SPLIT_RATIOS, 1);
    expect(tooSmall).toEqual([1]);
  });

  it('parses user split names', () => {
    expect(['train', 'VAL', 'valid', 'validation', 'dev', 'Test', 'holdout'].map(parseSplit)).toEqual([
      'train',
      'validation',
      'validation',
      'validation',
      'validation',
      'test',
      null,
    ]);
  });
});
