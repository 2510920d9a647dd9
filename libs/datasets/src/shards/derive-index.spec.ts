import { countClasses, deriveIndex, IndexEditError } from './derive-index';
import type { ImageShardIndex, IndexedSample } from './shard-index';

const sample = (hash: string, label: number, split: IndexedSample['split'] = 'train'): IndexedSample => ({
  shard: 0,
  offset: 0,
  label,
  split,
  hash,
  path: `${hash}.png`,
});

const parent: ImageShardIndex = {
  version: 1,
  kind: 'image',
  height: 2,
  width: 2,
  channels: 1,
  recordBytes: 4,
  labels: ['cat', 'dog'],
  shards: [{ key: 'tenants/t/datasets/d/versions/v/ingested/shard-0.bin', count: 4 }],
  samples: [sample('a', 0), sample('b', 0), sample('c', 1), sample('d', 1, 'test')],
};

describe('deriveIndex', () => {
  it('removes and relabels by sample id, keeping shards, labels and splits', () => {
    const r = deriveIndex(parent, { remove: new Set(['b']), relabel: new Map([['c', 'cat']]) });
    expect(r.removed).toBe(1);
    expect(r.relabeled).toBe(1);
    expect(r.index.shards).toEqual(parent.shards);
    expect(r.index.samples.map((s) => [s.hash, s.label, s.split])).toEqual([
      ['a', 0, 'train'],
      ['c', 0, 'train'],
      ['d', 1, 'test'],
    ]);
    expect(parent.samples[2].label).toBe(1); // the parent is not changed
    const counts = countClasses(r.index);
    expect(counts.classes.map((c) => c.count)).toEqual([2, 1]);
    expect(counts.splits).toEqual({ train: 2, validation: 0, test: 1 });
  });

  it('a relabel to the same class changes nothing and is not counted', () => {
    expect(deriveIndex(parent, { remove: new Set(), relabel: new Map([['a', 'cat']]) }).relabeled).toBe(0);
  });

  it.each([
    [{ remove: new Set(['zz']), relabel: new Map<string, string>() }, 'remove', /not in the dataset/],
    [{ remove: new Set<string>(), relabel: new Map([['zz', 'cat']]) }, 'relabel', /not in the dataset/],
    [{ remove: new Set<string>(), relabel: new Map([['a', 'bird']]) }, 'relabel', /not a class/],
    [{ remove: new Set(['a']), relabel: new Map([['a', 'dog']]) }, 'relabel', /both removed and relabeled/],
  ])('rejects %p', (edits, field, message) => {
    let error: unknown;
    try {
      deriveIndex(parent, edits);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IndexEditError);
    expect((error as IndexEditError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });
});
