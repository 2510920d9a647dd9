import type { DatasetFormat } from '../detect/format-types';
import { IngestionError } from '../errors';
import { resolveLimits, type IngestionLimits } from '../limits';
import { DEFAULT_SPLIT_RATIOS, DEFAULT_SPLIT_SEED, type SplitRatios } from '../split/split-types';
import type { ImageFit } from '../stats/report-types';

export interface IngestOptions {
  /** Overrides format detection. */
  format?: DatasetFormat;
  /** Tabular: the target column (required for tabular CSV). */
  target?: string;
  /** Text: column/field names (defaults `text`, `label`). */
  textColumn?: string;
  labelColumn?: string;
  /** Column/field with the user's split (`train`/`validation`/`test`); default `split` when present. */
  splitColumn?: string;
  /** Cache resolution of preprocessed images (default 64x64, 3 channels, `cover`). */
  image?: { size?: number; width?: number; height?: number; channels?: 1 | 3; fit?: ImageFit };
  /** Samples per shard (default 1024). */
  shardSize?: number;
  /** Split ratios (default 0.8/0.1/0.1) and seed (default 42). */
  split?: Partial<SplitRatios> & { seed?: number };
  limits?: Partial<IngestionLimits>;
  /** Warn when a class has fewer samples (default 10). */
  minSamplesPerClass?: number;
  /** Images decoded concurrently (default 4). */
  concurrency?: number;
  /** Prefix of every key written to the sink (e.g. `tenants/t1/datasets/d1/v1/`). */
  keyPrefix?: string;
  /** At most this many items in each report list (default 1000). */
  maxListed?: number;
  signal?: AbortSignal;
}

export interface ResolvedOptions {
  format: DatasetFormat | undefined;
  target: string | undefined;
  textColumn: string;
  labelColumn: string;
  splitColumn: string;
  splitColumnExplicit: boolean;
  image: { width: number; height: number; channels: 1 | 3; fit: ImageFit };
  shardSize: number;
  ratios: SplitRatios;
  seed: number;
  limits: IngestionLimits;
  minSamplesPerClass: number;
  concurrency: number;
  keyPrefix: string;
  maxListed: number;
  signal: AbortSignal | undefined;
}

function positiveInt(
  value: number | undefined,
  fallback: number,
  field: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) {
    throw new IngestionError(
      'invalid_options',
      `option ${field} must be an integer between 1 and ${max}, got ${String(value)}`,
      { field },
    );
  }
  return v;
}

export function resolveOptions(options: IngestOptions): ResolvedOptions {
  const size = positiveInt(options.image?.size, 64, 'image.size', 1024);
  const ratios: SplitRatios = { ...DEFAULT_SPLIT_RATIOS, ...(options.split ?? {}) };
  const parts = [ratios.train, ratios.validation, ratios.test];
  if (parts.some((r) => !Number.isFinite(r) || r < 0) || ratios.train <= 0) {
    throw new IngestionError('invalid_options', 'split ratios must be non-negative numbers with train > 0', {
      field: 'split',
    });
  }
  const channels = options.image?.channels ?? 3;
  if (channels !== 1 && channels !== 3)
    throw new IngestionError('invalid_options', 'image.channels must be 1 or 3', { field: 'image.channels' });
  return {
    format: options.format,
    target: options.target,
    textColumn: options.textColumn ?? 'text',
    labelColumn: options.labelColumn ?? 'label',
    splitColumn: options.splitColumn ?? 'split',
    splitColumnExplicit: options.splitColumn !== undefined,
    image: {
      width: positiveInt(options.image?.width, size, 'image.width', 1024),
      height: positiveInt(options.image?.height, size, 'image.height', 1024),
      channels,
      fit: options.image?.fit ?? 'cover',
    },
    shardSize: positiveInt(options.shardSize, 1024, 'shardSize'),
    ratios,
    seed: options.split?.seed ?? DEFAULT_SPLIT_SEED,
    limits: resolveLimits(options.limits),
    minSamplesPerClass: options.minSamplesPerClass ?? 10,
    concurrency: positiveInt(options.concurrency, 4, 'concurrency', 64),
    keyPrefix: options.keyPrefix ?? '',
    maxListed: options.maxListed ?? 1000,
    signal: options.signal,
  };
}
