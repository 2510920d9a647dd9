import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { StorageError } from '../errors';
import { assertObjectKey } from '../object-store';

/**
 * How object keys map to files. Key "a/b/c" is the file `a/b/c!o` below the objects directory:
 * every key segment but the last is a directory named after it, the last is a file named after it
 * plus `!o`. Segments are escaped ("%" -> "%25", "!" -> "%21"), so a directory name never contains
 * "!" and a data file's name always ends with "!o": keys "a" and "a/b" coexist (file `a!o` beside
 * directory `a/`), and no key maps onto another's file. assertObjectKey already refused empty, "."
 * and ".." segments and control characters, so no segment can leave the objects directory.
 */
export const OBJECT_SUFFIX = '!o';
/** Longest escaped segment: the file system's 255-byte names, minus the suffixes of data and temporary files. */
const MAX_SEGMENT_BYTES = 200;

export function encodeSegment(segment: string): string {
  return segment.replace(/%/g, '%25').replace(/!/g, '%21');
}

export function decodeSegment(name: string): string {
  return name.replace(/%21/g, '!').replace(/%25/g, '%');
}

/** The key's segments, escaped, after validating the key. INVALID_KEY when a segment is too long for a file name. */
export function keySegments(key: string): string[] {
  assertObjectKey(key);
  const segments = key.split('/').map(encodeSegment);
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    throw new StorageError(
      'INVALID_KEY',
      `object key "${key}" has a segment longer than ${MAX_SEGMENT_BYTES} bytes`,
      { key },
    );
  }
  return segments;
}

/** The data file of `key` below `objectsDir`, and its directory. */
export function objectFile(objectsDir: string, key: string): { dir: string; file: string } {
  const segments = keySegments(key);
  const dir = join(objectsDir, ...segments.slice(0, -1));
  return { dir, file: join(dir, `${segments[segments.length - 1]}${OBJECT_SUFFIX}`) };
}

/**
 * Throws unless `dir`, with every symbolic link resolved, is `rootReal` or below it: a link placed
 * inside the store cannot lead a key outside it. ENOENT passes through (the caller decides).
 */
export async function assertInside(rootReal: string, dir: string, key: string): Promise<void> {
  const real = await realpath(dir);
  if (real !== rootReal && !real.startsWith(rootReal + sep)) {
    throw new StorageError('INVALID_KEY', `object key "${key}" resolves outside the store`, { key });
  }
}
