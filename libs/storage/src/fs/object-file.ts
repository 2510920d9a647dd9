import { createHash, randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors';

/**
 * One file holds an object's bytes and, after them, its metadata: `[data][JSON][u32 JSON length][magic]`.
 * One rename publishes both at once, and a reader that opened the file sees a consistent pair even
 * if the object is replaced or deleted while it reads (it keeps the old inode).
 */
const MAGIC = Buffer.from('msobj01\n');
const TAIL = 4 + MAGIC.length;
const MAX_META_BYTES = 64 * 1024;

export interface StoredMeta {
  size: number;
  etag: string;
  contentType: string | null;
  metadata: Record<string, string>;
  /** Milliseconds since the epoch. */
  lastModified: number;
  /** Part files: the part's MD5 (binary, hex) for the completed object's ETag. */
  md5?: string;
}

function corrupt(what: string): StorageError {
  return new StorageError('STORAGE_ERROR', `stored file ${what} is not a valid object file`, {
    operation: 'read',
  });
}

/** Reads the metadata trailer of an open object file. */
export async function readMeta(fh: FileHandle, what: string): Promise<{ meta: StoredMeta; stats: Stats }> {
  const stats = await fh.stat();
  if (!stats.isFile() || stats.size < TAIL) throw corrupt(what);
  const tail = Buffer.alloc(TAIL);
  await readFully(fh, tail, stats.size - TAIL);
  const length = tail.readUInt32BE(0);
  if (!tail.subarray(4).equals(MAGIC) || length > MAX_META_BYTES || length + TAIL > stats.size)
    throw corrupt(what);
  const json = Buffer.alloc(length);
  await readFully(fh, json, stats.size - TAIL - length);
  let meta: StoredMeta;
  try {
    meta = JSON.parse(json.toString('utf8')) as StoredMeta;
  } catch {
    throw corrupt(what);
  }
  if (meta.size !== stats.size - TAIL - length) throw corrupt(what);
  return { meta, stats };
}

/** Reads exactly `buffer.length` bytes at `position` (fails on a short file). */
export async function readFully(fh: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await fh.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0)
      throw new StorageError('STORAGE_ERROR', 'stored file ended early', { operation: 'read' });
    done += bytesRead;
  }
}

/** Opens a file for reading without following a symbolic link in its last component; null when absent. */
export async function openExisting(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ELOOP: the name is a symbolic link, which the store never creates: treated as absent.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw e;
  }
}

export interface WrittenFile {
  path: string;
  size: number;
  /** MD5 of the data, hex. */
  md5: string;
}

/**
 * Streams `source` into a new temporary file in `tmpDir`, appends the trailer that `meta(size, md5)`
 * returns, and flushes it to disk. Memory stays at one chunk. `maxBytes` bounds the data (the
 * returned error is `tooLarge()`). On any failure the temporary file is removed and the error
 * (the source's own, as is) rethrown. The caller renames the file into place.
 */
export async function writeTempObject(
  tmpDir: string,
  source: AsyncIterable<Uint8Array | string>,
  meta: (size: number, md5: string) => StoredMeta,
  limit?: { maxBytes: number; tooLarge: () => Error },
): Promise<WrittenFile> {
  const path = join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
  const fh = await open(path, 'wx', 0o600);
  try {
    const hash = createHash('md5');
    let size = 0;
    for await (const raw of source) {
      const chunk =
        typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      size += chunk.length;
      if (limit && size > limit.maxBytes) throw limit.tooLarge();
      hash.update(chunk);
      await writeFully(fh, chunk);
    }
    const md5 = hash.digest('hex');
    const json = Buffer.from(JSON.stringify(meta(size, md5)));
    if (json.length > MAX_META_BYTES)
      throw new StorageError('INVALID_ARGUMENT', `object metadata exceeds ${MAX_META_BYTES} bytes`);
    const tail = Buffer.alloc(TAIL);
    tail.writeUInt32BE(json.length, 0);
    MAGIC.copy(tail, 4);
    await writeFully(fh, Buffer.concat([json, tail]));
    await fh.sync();
    await fh.close();
    return { path, size, md5 };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true }).catch(() => undefined);
    throw e;
  }
}

async function writeFully(fh: FileHandle, buffer: Buffer): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await fh.write(buffer, done, buffer.length - done);
    done += bytesWritten;
  }
}
