import type { ImageShardIndex, IndexedSample } from '@modelsmith/datasets';

/** Side of the fixture's grey images. */
export const FIXTURE_SIZE = 28;
/** How many of the fixture's images are in the train split (the first ones). */
export const FIXTURE_TRAIN = 36;

/**
 * For the search specs: 60 grey 28 px images (36 train, 12 validation, 12 test) of two classes
 * (dark, bright), each with its own deterministic texture, in one shard.
 */
export function twoClassDataset(): { index: ImageShardIndex; pixels: Uint8Array } {
  const count = 60;
  const rb = FIXTURE_SIZE * FIXTURE_SIZE;
  const pixels = new Uint8Array(count * rb);
  const samples: IndexedSample[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    for (let k = 0; k < rb; k++) pixels[i * rb + k] = (label ? 150 : 40) + ((i * 31 + k * 7) % 60);
    const split = i < FIXTURE_TRAIN ? 'train' : i < 48 ? 'validation' : 'test';
    samples.push({ shard: 0, offset: i, label, split, hash: String(i), path: `${i}.png` });
  }
  return {
    pixels,
    index: {
      version: 1,
      kind: 'image',
      height: FIXTURE_SIZE,
      width: FIXTURE_SIZE,
      channels: 1,
      recordBytes: rb,
      labels: ['dark', 'bright'],
      shards: [{ key: 's0', count }],
      samples,
    },
  };
}
