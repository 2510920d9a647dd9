import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';
import { IncompatibleParentError, countClasses, mergeWithParent } from './dataset-merge';

const sample = (
  shard: number,
  offset: number,
  label: number,
  hash: string,
  split: IndexedSample['split'] = 'train',
): IndexedSample => ({
  shard,
  offset,
  label,
  hash,
  split,
  path: `${hash}.png`,
});

const index = (labels: string[], shards: string[], samples: IndexedSample[]): ImageShardIndex => ({
  version: 1,
  kind: 'image',
  height: 28,
  width: 28,
  channels: 1,
  recordBytes: 784,
  labels,
  shards: shards.map((key) => ({ key, count: 2 })),
  samples,
});

describe('mergeWithParent', () => {
  const parent = index(['cat', 'dog'], ['p/0.bin'], [sample(0, 0, 0, 'a'), sample(0, 1, 1, 'b', 'test')]);

  it('keeps the parent, adds new samples with remapped labels and shard numbers, unions classes', () => {
    const child = index(
      ['dog', 'fox'],
      ['c/0.bin'],
      [sample(0, 0, 0, 'c'), sample(0, 1, 1, 'd', 'validation')],
    );
    const { index: merged, summary } = mergeWithParent(parent, child, 'v1');
    expect(merged.labels).toEqual(['cat', 'dog', 'fox']);
    expect(merged.shards.map((s) => s.key)).toEqual(['p/0.bin', 'c/0.bin']);
    expect(merged.samples.slice(2)).toEqual([
      { ...sample(1, 0, 1, 'c') },
      { ...sample(1, 1, 2, 'd', 'validation') },
    ]);
    expect(summary).toEqual({
      parentVersionId: 'v1',
      parentSamples: 2,
      added: 2,
      duplicatesOfParent: 0,
      conflictsWithParent: 0,
    });
    expect(countClasses(merged).classes.map((c) => c.count)).toEqual([1, 2, 1]);
  });

  it('does not add files the parent already has, and excludes relabeled copies', () => {
    const child = index(['cat', 'dog'], ['c/0.bin'], [sample(0, 0, 0, 'a'), sample(0, 1, 0, 'b')]);
    const { index: merged, summary } = mergeWithParent(parent, child, 'v1');
    expect(merged.samples).toHaveLength(2);
    expect(summary.duplicatesOfParent).toBe(1);
    expect(summary.conflictsWithParent).toBe(1);
  });

  it('refuses a parent stored at another resolution', () => {
    const child = { ...index(['cat'], [], []), height: 64, width: 64 };
    expect(() => mergeWithParent(parent, child, 'v1')).toThrow(IncompatibleParentError);
  });
});
