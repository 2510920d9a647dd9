import { IngestionError } from '../errors';

/**
 * Normalizes an archive entry path and rejects zip-slip: `..` segments, absolute paths,
 * drive letters, NUL bytes. Backslashes are treated as separators. Returns segments joined by `/`.
 */
export function safeEntryPath(raw: string): string {
  if (raw.includes('\0')) {
    throw new IngestionError('unsafe_path', `archive entry "${printable(raw)}" contains a NUL byte`, {
      file: printable(raw),
    });
  }
  const unified = raw.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) {
    throw new IngestionError('unsafe_path', `archive entry "${raw}" has an absolute path`, { file: raw });
  }
  const parts = unified.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) {
    throw new IngestionError('unsafe_path', `archive entry "${raw}" escapes the archive root with ".."`, {
      file: raw,
    });
  }
  return parts.join('/');
}

function printable(s: string): string {
  return s.replace(/\0/g, '\\0');
}

/** Entries that archivers add and that are never data: macOS resource forks, Finder files. */
export function isJunkPath(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? '';
  return parts[0] === '__MACOSX' || base === '.DS_Store' || base === 'Thumbs.db' || base.startsWith('._');
}
