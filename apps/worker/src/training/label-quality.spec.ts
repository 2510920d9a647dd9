import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';
import type { DynamicsValues } from '@modelsmith/ml';
import { labelQuality } from './label-quality';

const s = (hash: string, label: number, split: IndexedSample['split']): IndexedSample => ({
  shard: 0,
  offset: 0,
  label,
  split,
  hash,
  path: `x/${hash}.png`,
});

describe('labelQuality', () => {
  it("maps the dynamics' sample ids to the train split's samples in index order, with class names", () => {
    const index: ImageShardIndex = {
      version: 1,
      kind: 'image',
      height: 1,
      width: 1,
      channels: 1,
      recordBytes: 1,
      labels: ['cat', 'dog'],
      shards: [{ key: 'k', count: 4 }],
      // A test sample first: train ids skip it.
      samples: [s('t0', 0, 'test'), s('a', 0, 'train'), s('b', 1, 'train'), s('c', 0, 'train')],
    };
    // 3 train samples, 2 epochs: 'b' (id 1) is never fitted, 'c' (id 2) barely.
    const d: DynamicsValues = {
      samples: 3,
      classes: 2,
      epochs: 2,
      label: Int32Array.from([0, 1, 0]),
      prob: Float32Array.from([0.9, 0.1, 0.4, 0.95, 0.05, 0.45]),
      margin: Float32Array.from([2, -3, -0.2, 3, -4, -0.1]),
      other: Int32Array.from([1, 0, 1, 1, 0, 1]),
    };
    const { report, all } = labelQuality(index, d);
    expect(report.scored).toBe(3);
    expect(report.epochs).toBe(2);
    expect(report.suspected).toBe(all.length);
    expect(all[0]).toMatchObject({ sampleId: 'b', path: 'x/b.png', givenLabel: 'dog', believedLabel: 'cat' });
    expect(all[0].aum).toBeCloseTo(-3.5, 4);
    expect(all.map((x) => x.sampleId)).not.toContain('a');
    expect(report.suspectedByClass.dog).toBe(1);
  });
});
