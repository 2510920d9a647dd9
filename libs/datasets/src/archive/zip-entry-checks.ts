import type { Entry } from 'yauzl';
import { getFileNameLowLevel } from 'yauzl';
import { IngestionError } from '../errors';
import type { EntryKind } from './archive-types';
import { safeEntryPath } from './path-safety';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;

/** Decodes an entry name (CP437 or UTF-8 per the zip flags) and normalizes it safely. */
export function zipEntryPath(entry: Entry): string {
  const raw = Buffer.isBuffer(entry.fileName)
    ? getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName, entry.extraFields, false)
    : entry.fileName;
  return safeEntryPath(raw);
}

/** Classifies an entry from its name and (Unix) external attributes; rejects symlinks and specials. */
export function zipEntryKind(entry: Entry, path: string, rawName: string): EntryKind {
  const madeBy = entry.versionMadeBy >>> 8;
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & S_IFMT;
  if (madeBy === MADE_BY_UNIX && type !== 0) {
    if (type === S_IFLNK) {
      throw new IngestionError(
        'symlink_entry',
        `archive entry "${path}" is a symbolic link; links are not allowed`,
        { file: path },
      );
    }
    if (type === S_IFDIR) return 'directory';
    if (type !== S_IFREG) {
      throw new IngestionError(
        'unsupported_entry_type',
        `archive entry "${path}" is not a regular file or folder`,
        { file: path },
      );
    }
  }
  if (rawName.endsWith('/') || rawName.endsWith('\\')) return 'directory';
  if (entry.isEncrypted()) {
    throw new IngestionError('encrypted_entry', `archive entry "${path}" is encrypted`, { file: path });
  }
  if (!entry.canDecodeFileData()) {
    throw new IngestionError(
      'corrupt_archive',
      `archive entry "${path}" uses unsupported compression method ${entry.compressionMethod}`,
      { file: path },
    );
  }
  return 'file';
}

/** Raw name of an entry as a string, for the trailing-slash directory test. */
export function zipRawName(entry: Entry): string {
  return Buffer.isBuffer(entry.fileName)
    ? (entry.fileName as unknown as Buffer).toString('latin1')
    : entry.fileName;
}

/**
 * Detects overlapping entries (several central-directory records pointing into the same bytes,
 * the trick behind "overlapping-file" zip bombs). Each span is [local header, end of its data),
 * the end being a lower bound (the local extra field is not counted).
 */
export class OverlapDetector {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly names: string[] = [];

  add(entry: Entry, path: string): void {
    const start = entry.relativeOffsetOfLocalHeader;
    this.starts.push(start);
    this.ends.push(start + 30 + entry.fileNameLength + entry.compressedSize);
    this.names.push(path);
  }

  check(): void {
    const order = this.starts.map((_, i) => i).sort((a, b) => this.starts[a] - this.starts[b]);
    for (let k = 1; k < order.length; k++) {
      const prev = order[k - 1];
      const cur = order[k];
      if (this.starts[cur] < this.ends[prev]) {
        throw new IngestionError(
          'overlapping_entries',
          `archive entries "${this.names[prev]}" and "${this.names[cur]}" overlap (zip bomb?)`,
          { file: this.names[cur] },
        );
      }
    }
  }
}
