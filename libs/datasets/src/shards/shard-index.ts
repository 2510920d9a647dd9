import type { Split } from '../split/split-types';

export const INDEX_KEY = 'index.json';
export const REPORT_KEY = 'report.json';

export interface ShardFile {
  key: string;
  /** Records in the file (some may be excluded from every split, e.g. text label conflicts). */
  count: number;
}

export interface IndexedSample {
  /** Shard number in `shards`. */
  shard: number;
  /** Record position inside the shard. */
  offset: number;
  /** Class index into `labels`; null for a regression target. */
  label: number | null;
  split: Split;
  /**
   * The sample's id: sha256 of the original bytes (images) or of the normalized text (text); for
   * tabular rows sha256 of the line number and the row's cells, unique per row (equal rows are all kept).
   */
  hash: string;
  /** Original archive path, or `<file>:<line>` for CSV/JSONL rows. */
  path: string;
}

export interface ImageShardIndex {
  version: 1;
  kind: 'image';
  /** Records are uint8 HWC tensors of height x width x channels, back to back. */
  height: number;
  width: number;
  channels: 1 | 3;
  recordBytes: number;
  labels: string[];
  shards: ShardFile[];
  samples: IndexedSample[];
}

export interface RecordShardIndex {
  version: 1;
  kind: 'text' | 'tabular';
  /** Records are JSON lines: `{ text, label }` for text, the row object for tabular. */
  labels: string[];
  target?: string;
  columns?: string[];
  shards: ShardFile[];
  samples: IndexedSample[];
}

export type ShardIndex = ImageShardIndex | RecordShardIndex;
