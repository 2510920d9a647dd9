import type { RecordShardIndex } from '../shards/shard-index';
import type { ShardSource } from '../shards/shard-sink';
import { readRecordShards } from '../shards/shard-reader';
import type { Split } from '../split/split-types';

/** The texts of one split of a text dataset with their class indices (into `index.labels`). */
export interface TextSplitData {
  texts: string[];
  labels: Int32Array;
  paths: string[];
}

/** Reads one split of an ingested text dataset (records `{ text, label }`) in index order. */
export async function readTextSplit(
  source: ShardSource,
  index: RecordShardIndex,
  split: Split,
): Promise<TextSplitData> {
  if (index.kind !== 'text') throw new Error(`readTextSplit needs a text dataset, got ${index.kind}`);
  const texts: string[] = [];
  const labels: number[] = [];
  const paths: string[] = [];
  for await (const b of readRecordShards(source, { split, index, batch: 1024 })) {
    b.records.forEach((r, i) => {
      const text = (r as { text?: unknown } | null)?.text;
      const label = b.labels[i];
      if (typeof text !== 'string' || label === null) return;
      texts.push(text);
      labels.push(label);
      paths.push(b.paths[i]);
    });
  }
  return { texts, labels: Int32Array.from(labels), paths };
}
