import type { Split } from '../split/split-types';
import { mulberry32, shuffleInPlace } from '../util/prng';
import {
  INDEX_KEY,
  type ImageShardIndex,
  type IndexedSample,
  type RecordShardIndex,
  type ShardIndex,
} from './shard-index';
import type { ShardSource } from './shard-sink';

export interface ReadShardsOptions {
  split: Split;
  /** Samples per batch (default 32). The last batch may be smaller. */
  batch?: number;
  /** Shuffle shard order and samples within each shard with this seed; absent = index order. */
  shuffleSeed?: number;
  /** Key prefix the dataset was written under (default ''). */
  prefix?: string;
  /** An already loaded index (skips reading `<prefix>index.json`). */
  index?: ShardIndex;
}

export interface ImageBatch {
  /** Number of samples in this batch. */
  count: number;
  /** [count, height, width, channels] */
  shape: [number, number, number, number];
  /** uint8 HWC pixels, `count` records back to back. */
  pixels: Uint8Array;
  /** Class index per sample. */
  labels: Int32Array;
  /** Original paths, for debugging and explanations. */
  paths: string[];
  /** Position of each sample in the index's `samples` (a stable id within the dataset version). */
  indices: Int32Array;
}

export interface RecordBatch {
  count: number;
  records: unknown[];
  labels: (number | null)[];
  paths: string[];
}

export async function loadShardIndex(source: ShardSource, prefix = ''): Promise<ShardIndex> {
  const raw = await source.get(`${prefix}${INDEX_KEY}`);
  return JSON.parse(Buffer.from(raw).toString('utf8')) as ShardIndex;
}

/** Samples of one split grouped by shard, in shard order (or shuffled with the seed). */
function plan(
  index: ShardIndex,
  split: Split,
  shuffleSeed: number | undefined,
): { shard: number; samples: IndexedSample[]; positions: number[] }[] {
  const byShard = new Map<number, { samples: IndexedSample[]; positions: number[] }>();
  index.samples.forEach((s, position) => {
    if (s.split !== split) return;
    const g = byShard.get(s.shard) ?? { samples: [], positions: [] };
    g.samples.push(s);
    g.positions.push(position);
    byShard.set(s.shard, g);
  });
  const groups = [...byShard.entries()].sort((a, b) => a[0] - b[0]).map(([shard, g]) => ({ shard, ...g }));
  if (shuffleSeed !== undefined) {
    const rand = mulberry32(shuffleSeed);
    shuffleInPlace(groups, rand);
    for (const g of groups) {
      // One permutation for both lists (the same draws as shuffling the samples alone).
      const order = g.samples.map((_, i) => i);
      shuffleInPlace(order, rand);
      g.samples = order.map((i) => g.samples[i]);
      g.positions = order.map((i) => g.positions[i]);
    }
  }
  return groups;
}

async function resolveIndex(source: ShardSource, options: ReadShardsOptions): Promise<ShardIndex> {
  return options.index ?? loadShardIndex(source, options.prefix ?? '');
}

/**
 * Streams an image dataset's split as batches of uint8 HWC tensors. Holds one shard in memory
 * at a time; shuffling (when seeded) is per shard order and within each shard.
 */
export async function* readShards(
  source: ShardSource,
  options: ReadShardsOptions,
): AsyncIterable<ImageBatch> {
  const index = await resolveIndex(source, options);
  if (index.kind !== 'image') throw new Error(`readShards needs an image dataset, got ${index.kind}`);
  yield* readImageBatches(source, index, options);
}

async function* readImageBatches(
  source: ShardSource,
  index: ImageShardIndex,
  options: ReadShardsOptions,
): AsyncIterable<ImageBatch> {
  const batchSize = Math.max(1, options.batch ?? 32);
  const rb = index.recordBytes;
  let pixels = new Uint8Array(batchSize * rb);
  let labels = new Int32Array(batchSize);
  let paths: string[] = [];
  let indices = new Int32Array(batchSize);
  let n = 0;
  const emit = (): ImageBatch => {
    const out: ImageBatch = {
      count: n,
      shape: [n, index.height, index.width, index.channels],
      pixels: n === batchSize ? pixels : pixels.slice(0, n * rb),
      labels: n === batchSize ? labels : labels.slice(0, n),
      paths,
      indices: n === batchSize ? indices : indices.slice(0, n),
    };
    pixels = new Uint8Array(batchSize * rb);
    labels = new Int32Array(batchSize);
    indices = new Int32Array(batchSize);
    paths = [];
    n = 0;
    return out;
  };
  for (const group of plan(index, options.split, options.shuffleSeed)) {
    const file = index.shards[group.shard];
    if (!file) throw new Error(`index refers to missing shard ${group.shard}`);
    const data = await source.get(file.key);
    if (data.length !== file.count * rb)
      throw new Error(`shard "${file.key}" has ${data.length} bytes, expected ${file.count * rb}`);
    for (const [k, s] of group.samples.entries()) {
      pixels.set(data.subarray(s.offset * rb, (s.offset + 1) * rb), n * rb);
      labels[n] = s.label ?? -1;
      paths.push(s.path);
      indices[n] = group.positions[k];
      n += 1;
      if (n === batchSize) yield emit();
    }
  }
  if (n > 0) yield emit();
}

/** Streams a text or tabular dataset's split as batches of JSON records. */
export async function* readRecordShards(
  source: ShardSource,
  options: ReadShardsOptions,
): AsyncIterable<RecordBatch> {
  const index = await resolveIndex(source, options);
  if (index.kind === 'image') throw new Error('readRecordShards needs a text or tabular dataset');
  yield* readRecordBatches(source, index, options);
}

async function* readRecordBatches(
  source: ShardSource,
  index: RecordShardIndex,
  options: ReadShardsOptions,
): AsyncIterable<RecordBatch> {
  const batchSize = Math.max(1, options.batch ?? 32);
  let batch: RecordBatch = { count: 0, records: [], labels: [], paths: [] };
  for (const group of plan(index, options.split, options.shuffleSeed)) {
    const file = index.shards[group.shard];
    if (!file) throw new Error(`index refers to missing shard ${group.shard}`);
    const lines = Buffer.from(await source.get(file.key))
      .toString('utf8')
      .split('\n');
    for (const s of group.samples) {
      batch.records.push(JSON.parse(lines[s.offset] ?? 'null'));
      batch.labels.push(s.label);
      batch.paths.push(s.path);
      batch.count += 1;
      if (batch.count === batchSize) {
        yield batch;
        batch = { count: 0, records: [], labels: [], paths: [] };
      }
    }
  }
  if (batch.count > 0) yield batch;
}
