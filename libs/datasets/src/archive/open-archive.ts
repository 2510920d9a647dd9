import { sniffContainer } from '../detect/sniff-container';
import { IngestionError } from '../errors';
import { resolveLimits, type IngestionLimits } from '../limits';
import type { ByteSource } from '../source/byte-source';
import type { ArchiveReader } from './archive-types';
import { isJunkPath } from './path-safety';
import { readCapped } from './read-capped';
import { TarGzArchiveReader } from './tar-reader';
import { ZipArchiveReader } from './zip-reader';

/**
 * Opens a zip or tar.gz (sniffed from its bytes, not its name) with the same defenses as ingestion:
 * safe paths, entry and size caps, zip-bomb ratios, no links. For callers that only need the files
 * (batch prediction), not a dataset.
 */
export async function openArchive(
  source: ByteSource,
  limits?: Partial<IngestionLimits>,
): Promise<ArchiveReader> {
  const container = await sniffContainer(source);
  const resolved = resolveLimits(limits);
  switch (container) {
    case 'zip':
      return new ZipArchiveReader(source, resolved);
    case 'tar.gz':
      return new TarGzArchiveReader(source, resolved);
    case 'csv':
    case 'jsonl':
      throw new IngestionError('unknown_format', `"${source.name}" is not a zip or tar.gz archive`, {
        file: source.name,
      });
  }
}

export interface ArchiveFileBytes {
  path: string;
  bytes: Buffer;
}

/**
 * The archive's files with their bytes (each capped at maxEntryBytes), in archive order, skipping
 * archiver junk (`__MACOSX/`, `.DS_Store`, `._*`) and hidden files. One file in memory at a time.
 */
export async function* archiveFiles(
  reader: ArchiveReader,
  maxEntryBytes: number,
  signal?: AbortSignal,
): AsyncIterable<ArchiveFileBytes> {
  for await (const file of reader.files(signal)) {
    const base = file.path.split('/').pop() ?? '';
    if (isJunkPath(file.path) || base.startsWith('.')) {
      for await (const chunk of file.stream) void chunk; // drain: the next entry starts after this one
      continue;
    }
    yield { path: file.path, bytes: await readCapped(file.stream, maxEntryBytes, file.path) };
  }
}
