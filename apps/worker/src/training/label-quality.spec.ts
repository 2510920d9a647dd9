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

  it("with held-out scores suspects confident learning's issue count, lowest held-out margin first", () => {
    const index: ImageShardIndex = {
      version: 1,
      kind: 'image',
      height: 1,
      width: 1,
      channels: 1,
      recordBytes: 1,
      labels: ['cat', 'dog'],
      shards: [{ key: 'k', count: 3 }],
      samples: [s('a', 0, 'train'), s('b', 1, 'train'), s('c', 0, 'train')],
    };
    const d: DynamicsValues = {
      samples: 3,
      classes: 2,
      epochs: 1,
      label: Int32Array.from([0, 1, 0]),
      prob: Float32Array.from([0.9, 0.1, 0.3]),
      margin: Float32Array.from([2, -3, -1]),
      other: Int32Array.from([1, 0, 1]),
    };
    // 'b' and 'c' have negative AUM; held out, only 'b' loses to another class.
    const heldOut = {
      margin: Float64Array.from([1.5, -2, 0.4]),
      winner: Int32Array.from([1, 0, 1]),
      winnerProb: Float64Array.from([0.2, 0.9, 0.4]),
      prob: Float64Array.from([0.8, 0.1, 0.6]),
      classScore: Float64Array.from([1.2, 0.2, 0.9]),
      confident: Int32Array.from([0, 0, -1]),
    };
    const alone = labelQuality(index, d);
    expect(alone.report.method).toBe('aum');
    expect(alone.all.map((x) => x.sampleId)).toEqual(['b', 'c']);
    const both = labelQuality(index, d, heldOut);
    // One held-out confident class differs from its label ('b'): one suspect.
    expect(both.report.method).toBe('held-out');
    expect(both.all.map((x) => x.sampleId)).toEqual(['b']);
    expect(both.all[0].heldOutMargin).toBeCloseTo(-2, 4);
    // Its held-out confident class is not its given label: the label relabelSuspected gives it.
    expect(both.all[0].heldOutLabel).toBe('cat');
    expect(
      labelQuality(index, d, { ...heldOut, confident: Int32Array.from([1, 1, -1]) }).all[0].heldOutLabel,
    ).toBeUndefined();
    // Three issues (every confident class another label): 0.65 x 3 rounds to 2 suspects, the two
    // lowest held-out margins, whatever their AUM.
    expect(
      labelQuality(index, d, { ...heldOut, confident: Int32Array.from([1, 0, 1]) }).all.map(
        (x) => x.sampleId,
      ),
    ).toEqual(['b', 'c']);
    // Scores of another sample count are ignored (AUM alone).
    const wrong = {
      margin: new Float64Array(2),
      winner: new Int32Array(2),
      winnerProb: new Float64Array(2),
      prob: new Float64Array(2),
      classScore: new Float64Array(2),
      confident: new Int32Array(2),
    };
    expect(labelQuality(index, d, wrong).report.method).toBe('aum');
  });
});
