import { createHash, randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { StorageError } from '../errors';
import {
  assertExpiry,
  assertObjectKey,
  assertPartNumber,
  assertRangeArgs,
  assertSize,
  checkStreamSize,
  cleanEtag,
  DEFAULT_CONTENT_TYPE,
  normalizedMetadata,
  type CompletedPart,
  type ListedObject,
  type ObjectStat,
  type ObjectStore,
  type PresignedPartOptions,
  type PutOptions,
  type PutResult,
  type UploadedPartInfo,
} from '../object-store';
import {
  assertInside,
  decodeSegment,
  encodeSegment,
  keySegments,
  OBJECT_SUFFIX,
  objectFile,
} from './fs-paths';
import { openExisting, readFully, readMeta, writeTempObject, type StoredMeta } from './object-file';
import { ObjectUrlSigner } from './url-signer';

export interface FsObjectStoreOptions {
  /** Directory holding the store (`objects/`, `uploads/`, `tmp/` below it); created by ensureReady. */
  directory: string;
  /** Signs presigned URLs served by the API (`<baseUrl>/v1/objects/...`); without it presigning fails. */
  urls?: { secret: string; baseUrl: string };
  /** Largest part a presigned PUT may carry when its URL names no smaller limit (default 5 GiB, as S3). */
  maxPartBytes?: number;
}

interface UploadRecord {
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  created: number;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_FILE = /^(\d{5})\.part$/;
const DEFAULT_MAX_PART_BYTES = 5 * 1024 ** 3;
/** Temporary files older than this are a crashed writer's; ensureReady removes them. */
const STALE_TMP_MS = 24 * 3600 * 1000;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function partName(partNumber: number): string {
  return `${String(partNumber).padStart(5, '0')}.part`;
}

/** Turns file system errors into StorageErrors (no space, permissions, I/O) and passes StorageErrors and others through. */
function fsError(e: unknown, operation: string, key?: string): unknown {
  if (e instanceof StorageError) return e;
  const code = errno(e);
  if (code === undefined) return e;
  const details: Record<string, string> = { operation, backendCode: code };
  if (key !== undefined) details.key = key;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new StorageError(
      'STORAGE_UNAVAILABLE',
      `object store is full during ${operation}: ${message}`,
      details,
      { cause: e },
    );
  return new StorageError('STORAGE_ERROR', `object store ${operation} failed: ${message}`, details, {
    cause: e,
  });
}

function notFound(key: string): StorageError {
  return new StorageError('OBJECT_NOT_FOUND', `object "${key}" does not exist`, { key });
}

function uploadNotFound(key: string, uploadId: string): StorageError {
  return new StorageError('UPLOAD_NOT_FOUND', `multipart upload for "${key}" does not exist`, {
    key,
    uploadId: uploadId.slice(0, 64),
  });
}

/**
 * The filesystem driver of the object store: objects as files under one directory, for a single
 * machine (`npm start`). Writes go to a temporary file that is flushed and renamed into place, so
 * readers (other processes too) see an object whole or not at all; reads and writes stream. Its
 * presigned URLs point at the API (`/v1/objects/...`), which verifies them with `urlSigner`.
 */
export class FsObjectStore implements ObjectStore {
  readonly driver = 'fs' as const;
  readonly urlSigner: ObjectUrlSigner | null;
  readonly maxPartBytes: number;
  private readonly root: string;
  private readonly objectsDir: string;
  private readonly uploadsDir: string;
  private readonly tmpDir: string;
  private objectsReal: string | undefined;

  constructor(options: FsObjectStoreOptions) {
    this.root = options.directory;
    this.objectsDir = join(this.root, 'objects');
    this.uploadsDir = join(this.root, 'uploads');
    this.tmpDir = join(this.root, 'tmp');
    this.urlSigner = options.urls ? new ObjectUrlSigner(options.urls.secret, options.urls.baseUrl) : null;
    this.maxPartBytes = options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
  }

  /** Creates the directories and removes temporary files that crashed writers left (older than a day). */
  async ensureReady(): Promise<void> {
    try {
      for (const dir of [this.objectsDir, this.uploadsDir, this.tmpDir])
        await mkdir(dir, { recursive: true, mode: 0o700 });
      this.objectsReal = await realpath(this.objectsDir);
      const now = Date.now();
      for (const name of await readdir(this.tmpDir)) {
        const path = join(this.tmpDir, name);
        const s = await stat(path).catch(() => null);
        if (s && now - s.mtimeMs > STALE_TMP_MS)
          await rm(path, { recursive: true, force: true }).catch(() => undefined);
      }
    } catch (e) {
      throw fsError(e, 'ensureReady');
    }
  }

  async ping(): Promise<void> {
    try {
      for (const dir of [this.objectsDir, this.uploadsDir, this.tmpDir])
        await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (e) {
      throw new StorageError(
        'STORAGE_UNAVAILABLE',
        `object store directory ${this.root} is not usable: ${e instanceof Error ? e.message : String(e)}`,
        { operation: 'ping' },
        { cause: e },
      );
    }
  }

  async putStream(
    key: string,
    stream: Readable | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const { dir, file } = objectFile(this.objectsDir, key);
    assertSize(key, options.size);
    const metadata = normalizedMetadata(options.metadata);
    const contentType = options.contentType ?? DEFAULT_CONTENT_TYPE;
    let written;
    try {
      written = await writeTempObject(this.tmpDir, stream as AsyncIterable<Uint8Array>, (size, md5) => ({
        size,
        etag: md5,
        contentType,
        metadata,
        lastModified: Date.now(),
      }));
    } catch (e) {
      throw fsError(e, 'putStream', key);
    }
    try {
      checkStreamSize(key, options.size, written.size);
      await this.publish(written.path, dir, file, key);
    } catch (e) {
      await rm(written.path, { force: true }).catch(() => undefined);
      throw fsError(e, 'putStream', key);
    }
    return { etag: written.md5, size: written.size };
  }

  async putBytes(key: string, bytes: Uint8Array, contentType?: string): Promise<PutResult> {
    async function* once(): AsyncGenerator<Uint8Array> {
      yield bytes;
    }
    return this.putStream(key, once(), contentType === undefined ? {} : { contentType });
  }

  async getStream(key: string): Promise<Readable> {
    const opened = await this.openObject(key);
    if (opened.meta.size === 0) {
      await opened.fh.close();
      return Readable.from([]);
    }
    return opened.fh.createReadStream({ start: 0, end: opened.meta.size - 1, autoClose: true });
  }

  /** The object's metadata and a stream of its bytes from one open file (the API's download route). */
  async openRead(key: string): Promise<{ stat: ObjectStat; stream: Readable }> {
    const opened = await this.openObject(key);
    const stat = toStat(opened.meta);
    if (opened.meta.size === 0) {
      await opened.fh.close();
      return { stat, stream: Readable.from([]) };
    }
    return {
      stat,
      stream: opened.fh.createReadStream({ start: 0, end: opened.meta.size - 1, autoClose: true }),
    };
  }

  async getBytes(key: string): Promise<Buffer> {
    const { fh, meta } = await this.openObject(key);
    try {
      const body = Buffer.alloc(meta.size);
      await readFully(fh, body, 0);
      return body;
    } catch (e) {
      throw fsError(e, 'getBytes', key);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    assertObjectKey(key);
    assertRangeArgs(key, offset, length);
    const { fh, meta } = await this.openObject(key);
    try {
      if (offset >= meta.size)
        throw new StorageError('INVALID_RANGE', `range not satisfiable for "${key}"`, {
          key,
          offset,
          size: meta.size,
        });
      const body = Buffer.alloc(Math.min(length, meta.size - offset));
      await readFully(fh, body, offset);
      return body;
    } catch (e) {
      throw fsError(e, 'getRange', key);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async stat(key: string): Promise<ObjectStat | null> {
    try {
      const { fh, meta } = await this.openObject(key);
      await fh.close().catch(() => undefined);
      return toStat(meta);
    } catch (e) {
      if (e instanceof StorageError && e.code === 'OBJECT_NOT_FOUND') return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    const { dir, file } = objectFile(this.objectsDir, key);
    try {
      await assertInside(await this.objectsRoot(), dir, key);
      await unlink(file);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
      throw fsError(e, 'delete', key);
    }
    await this.prune(dir);
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (prefix.length === 0)
      throw new StorageError('INVALID_ARGUMENT', 'deletePrefix needs a non-empty prefix');
    assertObjectKey(prefix);
    let deleted = 0;
    for await (const item of this.list(prefix)) {
      await this.delete(item.key);
      deleted++;
    }
    return deleted;
  }

  /**
   * Every object under `prefix` in key (UTF-8 byte) order: a directory walk where each directory's
   * entries are sorted as the keys they stand for ("name" for an object, "name/" for a directory), so
   * the walk yields keys in order while holding one directory listing per level. Symbolic links are skipped.
   */
  async *list(prefix: string): AsyncGenerator<ListedObject> {
    if (prefix !== '') assertObjectKey(prefix);
    const slash = prefix.lastIndexOf('/');
    const dirPrefix = prefix.slice(0, slash + 1); // "" or "a/b/"
    const partial = prefix.slice(slash + 1);
    const dirSegments = dirPrefix === '' ? [] : keySegments(dirPrefix).slice(0, -1);
    const start = join(this.objectsDir, ...dirSegments);
    try {
      await assertInside(await this.objectsRoot(), start, prefix);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
      throw fsError(e, 'list', prefix);
    }
    yield* this.walk(start, dirPrefix, partial);
  }

  async presignedGet(
    key: string,
    expirySeconds: number,
    options: { downloadName?: string } = {},
  ): Promise<string> {
    keySegments(key);
    assertExpiry(expirySeconds);
    return this.signer().sign({
      method: 'GET',
      key,
      expires: Math.floor(Date.now() / 1000) + expirySeconds,
      ...(options.downloadName ? { downloadName: options.downloadName } : {}),
    });
  }

  async createMultipartUpload(key: string, contentType?: string): Promise<string> {
    keySegments(key);
    const uploadId = randomBytes(16).toString('hex');
    const staging = join(this.tmpDir, `${uploadId}.upload`);
    const record: UploadRecord = {
      key,
      contentType: contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: {},
      created: Date.now(),
    };
    try {
      await mkdir(staging, { mode: 0o700 });
      await writeFile(join(staging, 'upload.json'), JSON.stringify(record), { mode: 0o600, flush: true });
      // The upload appears whole: its directory is renamed into uploads/ with its record inside.
      await rename(staging, join(this.uploadsDir, uploadId));
    } catch (e) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw fsError(e, 'createMultipartUpload', key);
    }
    return uploadId;
  }

  async presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expirySeconds: number,
    options: PresignedPartOptions = {},
  ): Promise<string> {
    keySegments(key);
    assertPartNumber(partNumber);
    assertExpiry(expirySeconds);
    const maxBytes = Math.min(options.maxBytes ?? this.maxPartBytes, this.maxPartBytes);
    return this.signer().sign({
      method: 'PUT',
      key,
      uploadId,
      partNumber,
      maxBytes,
      expires: Math.floor(Date.now() / 1000) + expirySeconds,
    });
  }

  /**
   * Stores one part of a multipart upload (the API's PUT route, after verifying the URL). A part
   * sent again replaces the earlier one. ENTITY_TOO_LARGE past `maxBytes`; a failing source's error
   * is rethrown as is and leaves no part behind.
   */
  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    source: AsyncIterable<Uint8Array>,
    maxBytes = this.maxPartBytes,
  ): Promise<{ etag: string; size: number }> {
    assertPartNumber(partNumber);
    const dir = await this.uploadDir(key, uploadId);
    const limit = Math.min(maxBytes, this.maxPartBytes);
    const tooLarge = () =>
      new StorageError('ENTITY_TOO_LARGE', `part ${partNumber} exceeds ${limit} bytes`, {
        key,
        partNumber,
        maxBytes: limit,
      });
    let written;
    try {
      written = await writeTempObject(
        this.tmpDir,
        source,
        (size, md5) => ({ size, etag: md5, md5, contentType: null, metadata: {}, lastModified: Date.now() }),
        { maxBytes: limit, tooLarge },
      );
    } catch (e) {
      throw fsError(e, 'uploadPart', key);
    }
    try {
      await rename(written.path, join(dir, partName(partNumber)));
    } catch (e) {
      await rm(written.path, { force: true }).catch(() => undefined);
      if (errno(e) === 'ENOENT') throw uploadNotFound(key, uploadId); // aborted or completed meanwhile
      throw fsError(e, 'uploadPart', key);
    }
    return { etag: written.md5, size: written.size };
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPartInfo[]> {
    const dir = await this.uploadDir(key, uploadId);
    const parts: UploadedPartInfo[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = PART_FILE.exec(name);
      if (!m) continue;
      const fh = await openExisting(join(dir, name));
      if (!fh) continue;
      try {
        const { meta } = await readMeta(fh, name);
        parts.push({
          partNumber: Number(m[1]),
          etag: meta.etag,
          size: meta.size,
          lastModified: new Date(meta.lastModified),
        });
      } finally {
        await fh.close().catch(() => undefined);
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Checks every given part against the stored one (present, same ETag), then streams them in order
   * into a temporary file that is renamed into place; the upload is removed afterwards. The object's
   * ETag is S3's form for multipart objects: MD5 of the parts' MD5s, "-", the part count.
   */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: CompletedPart[],
  ): Promise<{ etag: string }> {
    const { dir: objectDir, file } = objectFile(this.objectsDir, key);
    if (parts.length === 0)
      throw new StorageError('INVALID_ARGUMENT', 'a multipart upload needs at least one part', { key });
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    sorted.forEach((p, i) => {
      assertPartNumber(p.partNumber);
      if (i > 0 && sorted[i - 1].partNumber === p.partNumber)
        throw new StorageError('INVALID_PART', `part ${p.partNumber} is listed twice`, {
          key,
          partNumber: p.partNumber,
        });
    });
    const dir = await this.uploadDir(key, uploadId);
    const record = await this.uploadRecord(key, uploadId);
    // First pass: fail fast, before writing anything, on a missing part or a wrong ETag.
    for (const part of sorted) {
      const fh = await this.openPart(dir, key, part);
      await fh.close().catch(() => undefined);
    }
    const md5s: Buffer[] = [];
    const openPart = (part: CompletedPart) => this.openPart(dir, key, part);
    async function* concatenated(): AsyncGenerator<Uint8Array> {
      for (const part of sorted) {
        // Checked again on the file actually read: a part may have been replaced since the first pass.
        const fh = await openPart(part);
        try {
          const { meta } = await readMeta(fh, partName(part.partNumber));
          md5s.push(Buffer.from(meta.md5 ?? meta.etag, 'hex'));
          if (meta.size > 0) yield* fh.createReadStream({ start: 0, end: meta.size - 1, autoClose: false });
        } finally {
          await fh.close().catch(() => undefined);
        }
      }
    }
    const etagOf = () => `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}`;
    let written;
    try {
      written = await writeTempObject(this.tmpDir, concatenated(), (size) => ({
        size,
        etag: etagOf(),
        contentType: record.contentType,
        metadata: record.metadata,
        lastModified: Date.now(),
      }));
    } catch (e) {
      throw fsError(e, 'completeMultipartUpload', key);
    }
    try {
      await this.publish(written.path, objectDir, file, key);
    } catch (e) {
      await rm(written.path, { force: true }).catch(() => undefined);
      throw fsError(e, 'completeMultipartUpload', key);
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    return { etag: etagOf() };
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const dir = await this.uploadDir(key, uploadId);
    // Renamed away first, so that no part upload lands in a half-removed directory.
    const doomed = join(this.tmpDir, `${uploadId}.aborted.${randomBytes(4).toString('hex')}`);
    try {
      await rename(dir, doomed);
    } catch (e) {
      if (errno(e) === 'ENOENT') throw uploadNotFound(key, uploadId);
      throw fsError(e, 'abortMultipartUpload', key);
    }
    await rm(doomed, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }

  // ---- internals -----------------------------------------------------------------------------------

  private signer(): ObjectUrlSigner {
    if (!this.urlSigner)
      throw new StorageError(
        'STORAGE_CONFIG_INVALID',
        'this filesystem object store has no URL signing secret; it cannot presign URLs',
      );
    return this.urlSigner;
  }

  private async objectsRoot(): Promise<string> {
    if (this.objectsReal === undefined) {
      try {
        this.objectsReal = await realpath(this.objectsDir);
      } catch (e) {
        throw new StorageError(
          'STORAGE_UNAVAILABLE',
          `object store directory ${this.objectsDir} is not usable (run ensureReady)`,
          { operation: 'open' },
          { cause: e },
        );
      }
    }
    return this.objectsReal;
  }

  /** Opens an object's file and reads its metadata; OBJECT_NOT_FOUND when absent. The caller closes `fh`. */
  private async openObject(key: string) {
    const { dir, file } = objectFile(this.objectsDir, key);
    try {
      await assertInside(await this.objectsRoot(), dir, key);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') throw notFound(key);
      throw fsError(e, 'open', key);
    }
    let fh;
    try {
      fh = await openExisting(file);
    } catch (e) {
      throw fsError(e, 'open', key);
    }
    if (!fh) throw notFound(key);
    try {
      const { meta } = await readMeta(fh, relative(this.root, file));
      return { fh, meta };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw fsError(e, 'open', key);
    }
  }

  /**
   * Renames a finished temporary file to `file`, creating its directories. A concurrent delete may
   * remove a directory it just emptied between our mkdir and rename: then we create it again.
   */
  private async publish(tmp: string, dir: string, file: string, key: string): Promise<void> {
    const root = await this.objectsRoot();
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await assertInside(root, dir, key);
        await rename(tmp, file);
        break;
      } catch (e) {
        if (errno(e) === 'ENOENT' && attempt < 5) continue;
        if (errno(e) === 'ENOTDIR' || errno(e) === 'EEXIST' || errno(e) === 'EISDIR') {
          throw new StorageError('INVALID_KEY', `object key "${key}" collides with the store's layout`, {
            key,
          });
        }
        throw e;
      }
    }
    await syncDir(dir);
  }

  /** Removes directories that became empty, from `dir` up to (not including) the objects directory. */
  private async prune(dir: string): Promise<void> {
    for (let d = dir; d !== this.objectsDir && d.startsWith(this.objectsDir + sep); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (another object, or a writer that just created it), or gone already
      }
    }
  }

  private async *walk(dir: string, keyPrefix: string, partial: string): AsyncGenerator<ListedObject> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
      throw fsError(e, 'list', keyPrefix);
    }
    const children: { sortKey: Buffer; name: string; segment: string; isDir: boolean }[] = [];
    for (const entry of entries) {
      if (entry.isSymbolicLink()) continue;
      const isDir = entry.isDirectory();
      let segment: string;
      if (isDir) {
        if (entry.name.includes('!')) continue;
        segment = decodeSegment(entry.name);
      } else if (entry.isFile() && entry.name.endsWith(OBJECT_SUFFIX)) {
        const stem = entry.name.slice(0, -OBJECT_SUFFIX.length);
        if (stem.includes('!') || encodeSegment(decodeSegment(stem)) !== stem) continue;
        segment = decodeSegment(stem);
      } else continue;
      if (!segment.startsWith(partial)) continue;
      children.push({
        sortKey: Buffer.from(isDir ? `${segment}/` : segment),
        name: entry.name,
        segment,
        isDir,
      });
    }
    children.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const child of children) {
      const path = join(dir, child.name);
      if (child.isDir) {
        yield* this.walk(path, `${keyPrefix}${child.segment}/`, '');
        continue;
      }
      const fh = await openExisting(path).catch(() => null);
      if (!fh) continue; // deleted meanwhile
      try {
        const { meta } = await readMeta(fh, relative(this.root, path));
        yield {
          key: `${keyPrefix}${child.segment}`,
          size: meta.size,
          etag: meta.etag,
          lastModified: new Date(meta.lastModified),
        };
      } catch {
        continue; // not an object file of this store
      } finally {
        await fh.close().catch(() => undefined);
      }
    }
  }

  /** The directory of an open upload for `key`; UPLOAD_NOT_FOUND for a malformed, unknown or other key's id. */
  private async uploadDir(key: string, uploadId: string): Promise<string> {
    keySegments(key);
    if (!UPLOAD_ID.test(uploadId)) throw uploadNotFound(key, uploadId);
    await this.uploadRecord(key, uploadId);
    return join(this.uploadsDir, uploadId);
  }

  private async uploadRecord(key: string, uploadId: string): Promise<UploadRecord> {
    let record: UploadRecord;
    try {
      record = JSON.parse(
        await readFile(join(this.uploadsDir, uploadId, 'upload.json'), 'utf8'),
      ) as UploadRecord;
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR' || e instanceof SyntaxError)
        throw uploadNotFound(key, uploadId);
      throw fsError(e, 'upload', key);
    }
    if (record.key !== key) throw uploadNotFound(key, uploadId);
    return record;
  }

  /** Opens a stored part and checks it against the part the client names; INVALID_PART otherwise. */
  private async openPart(dir: string, key: string, part: CompletedPart) {
    const fh = await openExisting(join(dir, partName(part.partNumber)));
    if (!fh) {
      if (
        !(await stat(dir).then(
          () => true,
          () => false,
        ))
      )
        throw new StorageError('UPLOAD_NOT_FOUND', `multipart upload for "${key}" does not exist`, { key });
      throw new StorageError('INVALID_PART', `part ${part.partNumber} was not uploaded`, {
        key,
        partNumber: part.partNumber,
      });
    }
    try {
      const { meta } = await readMeta(fh, partName(part.partNumber));
      if (meta.etag !== cleanEtag(part.etag))
        throw new StorageError(
          'INVALID_PART',
          `part ${part.partNumber} has another ETag than the one given`,
          { key, partNumber: part.partNumber },
        );
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    return fh;
  }
}

function toStat(meta: StoredMeta): ObjectStat {
  return {
    size: meta.size,
    etag: meta.etag,
    contentType: meta.contentType,
    lastModified: new Date(meta.lastModified),
    metadata: { ...meta.metadata },
  };
}

/** Flushes a directory's entries (the rename that published a file) to disk. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close().catch(() => undefined);
}
