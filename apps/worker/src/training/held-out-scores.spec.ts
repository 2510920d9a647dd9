import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';
import { heldOutScores } from './held-out-scores';

const SIZE = 8;

/** `count` train images of two classes (dark, bright) in one shard; `flip` gets the other label. */
function dataset(count: number, flip: number[]) {
  const rb = SIZE * SIZE;
  const pixels = new Uint8Array(count * rb);
  const samples: IndexedSample[] = [];
  for (let i = 0; i < count; i++) {
    const bright = i % 2;
    pixels.fill(bright ? 200 + (i % 40) : 20 + (i % 40), i * rb, (i + 1) * rb);
    const label = flip.includes(i) ? 1 - bright : bright;
    samples.push({ shard: 0, offset: i, label, split: 'train', hash: `h${i}`, path: `${i}.png` });
  }
  const index: ImageShardIndex = {
    version: 1,
    kind: 'image',
    height: SIZE,
    width: SIZE,
    channels: 1,
    recordBytes: rb,
    labels: ['dark', 'bright'],
    shards: [{ key: 's0', count }],
    samples,
  };
  return { index, shards: { get: async () => pixels } };
}

describe('heldOutScores', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // The extractor: the image flattened (what a frozen backbone's feature vector stands for).
  const extractor = () => {
    const input = tf.input({ shape: [SIZE, SIZE, 1] });
    return tf.model({ inputs: input, outputs: tf.layers.flatten().apply(input) as tf.SymbolicTensor });
  };

  it('scores each train sample by models that never saw it: flipped labels lose to their true class', async () => {
    const { index, shards } = dataset(40, [4, 9]);
    const r = await heldOutScores(
      extractor(),
      shards,
      index,
      { kind: 'symmetric' },
      { height: SIZE, width: SIZE, channels: 1 },
      {
        batchSize: 8,
        seed: 1,
      },
    );
    if (!r) throw new Error('no scores');
    expect(r.margin).toHaveLength(40);
    expect(r.margin[4]).toBeLessThan(0);
    expect(r.margin[9]).toBeLessThan(0);
    expect(r.winner[4]).toBe(0);
    expect(r.winner[9]).toBe(1);
    // The logistic held-out models are confident in the true class: what relabelSuspected gives them.
    expect(r.confident[4]).toBe(0);
    expect(r.confident[9]).toBe(1);
    expect(r.classScore[4]).toBeLessThan(1);
    const others = Array.from(r.margin).filter((_, i) => i !== 4 && i !== 9);
    expect(others.filter((m) => m > 0).length).toBeGreaterThanOrEqual(36);
  });

  it('skips a train split too small to cross-fit, and stops when aborted', async () => {
    const shape = { height: SIZE, width: SIZE, channels: 1 as const };
    const small = dataset(12, []);
    expect(
      await heldOutScores(extractor(), small.shards, small.index, { kind: 'symmetric' }, shape, {
        batchSize: 8,
        seed: 1,
      }),
    ).toBeUndefined();
    const big = dataset(40, []);
    const ac = new AbortController();
    ac.abort();
    expect(
      await heldOutScores(extractor(), big.shards, big.index, { kind: 'symmetric' }, shape, {
        batchSize: 8,
        seed: 1,
        signal: ac.signal,
      }),
    ).toBeUndefined();
  });
});
