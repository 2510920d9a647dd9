/** Stable codes of fatal ingestion problems. A fatal problem fails the whole ingestion. */
export type IngestionErrorCode =
  | 'unknown_format'
  | 'content_type_mismatch'
  | 'empty_archive'
  | 'empty_dataset'
  | 'single_class'
  | 'too_many_entries'
  | 'archive_too_large'
  | 'entry_too_large'
  | 'compression_ratio_exceeded'
  | 'overlapping_entries'
  | 'unsafe_path'
  | 'symlink_entry'
  | 'unsupported_entry_type'
  | 'encrypted_entry'
  | 'corrupt_archive'
  | 'labels_csv_invalid'
  | 'csv_invalid'
  | 'missing_column'
  | 'too_many_rows'
  | 'invalid_options'
  | 'cancelled';

export interface IngestionErrorDetails {
  /** Archive entry path or file name the problem is about. */
  file?: string;
  /** 1-based line number in a CSV/JSONL file. */
  line?: number;
  /** Column or field name. */
  field?: string;
}

/** A fatal ingestion failure with a stable `code` and a message naming the file/row/field. */
export class IngestionError extends Error {
  override readonly name = 'IngestionError';

  constructor(
    readonly code: IngestionErrorCode,
    message: string,
    readonly details: IngestionErrorDetails = {},
  ) {
    super(message);
  }

  toJSON(): { code: IngestionErrorCode; message: string; details: IngestionErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isIngestionError(err: unknown): err is IngestionError {
  return err instanceof IngestionError;
}
