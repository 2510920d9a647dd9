import type { Readable } from 'node:stream';

export type EntryKind = 'file' | 'directory';

export interface ArchiveListingEntry {
  path: string;
  kind: EntryKind;
  /** Declared uncompressed size (not trusted: sizes are enforced while streaming). */
  declaredSize: number;
}

export interface ArchiveFile {
  /** Safe, normalized path (`a/b/c.png`). */
  path: string;
  /** The entry's bytes. Consume fully (or destroy) before asking for the next entry. */
  stream: Readable;
}

export interface ArchiveProgress {
  /** Bytes of the (compressed) source consumed so far. */
  sourceBytes: number;
  /** Uncompressed bytes produced so far. */
  uncompressedBytes: number;
}

/** An archive read in two passes: a listing pass (validation, `labels.csv`) and a data pass. */
export interface ArchiveReader {
  readonly container: 'zip' | 'tar.gz';
  /** Validates every entry (paths, types, counts, declared sizes) and returns the file list. */
  list(signal?: AbortSignal): Promise<ArchiveListingEntry[]>;
  /** Reads one small file fully (e.g. `labels.csv`), capped at maxBytes. */
  readFile(path: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer>;
  /** Streams the files in archive order; the caller must finish each stream before the next. */
  files(signal?: AbortSignal): AsyncIterable<ArchiveFile>;
  progress(): ArchiveProgress;
}
