import type { DatasetFormat, Container } from '../detect/format-types';
import type { Split, SplitRatios } from '../split/split-types';

/** Why one file or row was left out; the ingestion goes on. */
export type SkipReason =
  | 'not_an_image'
  | 'unsupported_image_format'
  | 'image_too_large'
  | 'corrupt_image'
  | 'duplicate'
  | 'label_conflict'
  | 'outside_class_folder'
  | 'not_in_labels_csv'
  | 'missing_file'
  | 'invalid_label'
  | 'invalid_split'
  | 'malformed_row'
  | 'missing_value';

export interface SkippedItem {
  reason: SkipReason;
  message: string;
  path?: string;
  line?: number;
}

/** Stable codes of warnings a user can act on. */
export type WarningCode =
  | 'class_too_small'
  | 'class_imbalance'
  | 'empty_class'
  | 'class_not_split'
  | 'many_skipped'
  | 'duplicates_found'
  | 'label_conflicts'
  | 'label_sanitized'
  | 'images_upscaled'
  | 'missing_values'
  | 'constant_column'
  | 'target_high_cardinality'
  | 'possible_leakage'
  | 'short_texts';

export interface DatasetWarning {
  code: WarningCode;
  message: string;
  /** The class, column or file the warning is about. */
  subject?: string;
}

export interface ClassStats {
  name: string;
  index: number;
  count: number;
  splits: Record<Split, number>;
}

export interface NumericSummary {
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
}

export interface ImageStats {
  /** Original sizes by longest side: `<=32`, `<=64`, ... `>2048`. */
  sizeHistogram: { bucket: string; count: number }[];
  width: NumericSummary | null;
  height: NumericSummary | null;
  formats: Record<string, number>;
  /** Channel counts of the originals (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA/CMYK). */
  channels: Record<string, number>;
  /** Images whose EXIF orientation was applied. */
  exifOriented: number;
  cache: { width: number; height: number; channels: 1 | 3; fit: ImageFit };
}

export type ImageFit = 'cover' | 'contain' | 'fill';

export interface TextStats {
  /** Characters per text. */
  length: NumericSummary | null;
  /** Whitespace/punctuation-separated tokens per text. */
  tokens: NumericSummary | null;
  vocabularySize: number;
  /** True when the vocabulary passed the tracking cap (the size is then a lower bound). */
  vocabularyCapped: boolean;
  topTokens: { token: string; count: number }[];
}

export type ColumnType = 'numeric' | 'categorical' | 'text' | 'boolean' | 'date' | 'empty';

export interface ColumnStats {
  name: string;
  type: ColumnType;
  missing: number;
  distinct: number;
  /** Distinct count is exact up to this many values, then a lower bound. */
  distinctCapped: boolean;
  numeric?: { min: number; max: number; mean: number; std: number };
  topValues?: { value: string; count: number }[];
}

export interface TabularStats {
  rows: number;
  columns: ColumnStats[];
  target: {
    name: string;
    type: ColumnType;
    /** Classification targets: count per value. */
    distribution?: { value: string; count: number }[];
    /** Regression targets: summary and a 10-bin histogram. */
    numeric?: {
      min: number;
      max: number;
      mean: number;
      std: number;
      histogram: { from: number; to: number; count: number }[];
    };
  };
}

export interface DuplicateGroup {
  /** Content hash (tabular: of the feature columns). */
  hash: string;
  /** The first copy. */
  kept: string;
  /** Other copies with the same label: dropped (images, text), kept (tabular rows). */
  duplicates: string[];
}

export interface LabelConflict {
  /** Content hash (tabular: of the feature columns). */
  hash: string;
  /**
   * Copies and their labels (images, text: every copy, all excluded from training; tabular: the
   * first row per target value, all rows kept).
   */
  items: { path: string; label: string }[];
}

/** Everything the ingestion learned about a dataset. JSON-serializable. */
export interface DatasetReport {
  version: 1;
  kind: 'image' | 'text' | 'tabular';
  format: DatasetFormat;
  container: Container;
  source: { name: string; bytes: number };
  totals: {
    /** Files (archives) or data rows (CSV/JSONL) seen. */
    entries: number;
    /** Samples usable for training (in a split). */
    samples: number;
    skipped: number;
    /** Copies of an earlier sample with the same label (tabular: counted and kept). */
    duplicates: number;
    /** Contents (tabular: feature values) seen under more than one label (tabular: rows kept). */
    labelConflicts: number;
  };
  classes: ClassStats[];
  splits: Record<Split, number>;
  split: { method: 'seeded' | 'column' | 'mixed'; seed: number; ratios: SplitRatios };
  /** Largest class count / smallest class count; null for regression. */
  imbalanceRatio: number | null;
  images?: ImageStats;
  text?: TextStats;
  tabular?: TabularStats;
  /** Skipped files/rows, at most `maxListed`; `skippedByReason` counts all of them. */
  skipped: SkippedItem[];
  skippedByReason: Partial<Record<SkipReason, number>>;
  duplicates: DuplicateGroup[];
  labelConflicts: LabelConflict[];
  warnings: DatasetWarning[];
  /** True when lists above were cut at `maxListed` items. */
  truncatedLists: boolean;
}
