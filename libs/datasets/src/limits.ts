/** Caps that protect the ingestion worker from hostile or accidental oversize input. */
export interface IngestionLimits {
  /** Maximum number of entries in an archive (files, folders and anything else). */
  maxEntries: number;
  /** Maximum total uncompressed bytes read out of an archive, counted while streaming. */
  maxTotalBytes: number;
  /** Maximum uncompressed bytes of a single entry, counted while streaming. */
  maxEntryBytes: number;
  /** Maximum ratio uncompressed/compressed for one zip entry or a whole gzip stream. */
  maxCompressionRatio: number;
  /** The ratio rule only applies once this many uncompressed bytes have been produced. */
  ratioGraceBytes: number;
  /** Maximum decoded pixels (width * height) of one image. */
  maxImagePixels: number;
  /** Maximum data rows of a CSV/JSONL file. */
  maxRows: number;
  /** Maximum bytes of `labels.csv` inside an archive. */
  maxLabelsCsvBytes: number;
}

export const DEFAULT_LIMITS: IngestionLimits = {
  maxEntries: 200_000,
  maxTotalBytes: 20 * 1024 ** 3,
  maxEntryBytes: 64 * 1024 ** 2,
  maxCompressionRatio: 200,
  ratioGraceBytes: 1024 ** 2,
  maxImagePixels: 50_000_000,
  maxRows: 5_000_000,
  maxLabelsCsvBytes: 64 * 1024 ** 2,
};

export function resolveLimits(partial: Partial<IngestionLimits> | undefined): IngestionLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
