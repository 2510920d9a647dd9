import type { Readable } from 'node:stream';
import { StorageError } from './errors';

export interface PutOptions {
  /** Expected size in bytes; the upload fails with INVALID_ARGUMENT if the stream differs. */
  size?: number;
  contentType?: string;
  /** User metadata (names: letters, digits and "-", lower-cased; S3 stores them as x-amz-meta-<name>). */
  metadata?: Record<string, string>;
}

export interface PutResult {
  etag: string;
  size: number;
}

export interface ObjectStat {
  size: number;
  etag: string;
  contentType: string | null;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface UploadedPartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified?: Date;
}

export interface PresignedPartOptions {
  /**
   * Most bytes the part may have. The filesystem driver signs it into the URL and refuses a larger
   * body; S3 servers apply their own limit (5 GiB per part).
   */
  maxBytes?: number;
}

/**
 * The platform's object store. Two drivers implement it: `S3ObjectStore` (one bucket on MinIO, AWS
 * S3 or any S3-compatible server) and `FsObjectStore` (a directory on the local filesystem, whose
 * presigned URLs the API serves itself). Build one with `createObjectStore(config)`. Every failure
 * is a StorageError with a stable code.
 */
export interface ObjectStore {
  readonly driver: 's3' | 'fs';
  /** Prepares the store at boot (S3: creates the bucket if absent; fs: creates the directories). Safe concurrently. */
  ensureReady(): Promise<void>;
  /** Readiness probe: BUCKET_NOT_FOUND / STORAGE_UNAVAILABLE when the store cannot serve. */
  ping(): Promise<void>;

  /** Streams `stream` into `key`, never holding the object in memory. A failing source's error is rethrown as is and nothing is stored. */
  putStream(
    key: string,
    stream: Readable | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<PutResult>;
  /** Stores a small in-memory object. */
  putBytes(key: string, bytes: Uint8Array, contentType?: string): Promise<PutResult>;
  /** The object's content as a stream. OBJECT_NOT_FOUND if absent. */
  getStream(key: string): Promise<Readable>;
  /** The whole object in memory (small objects only). */
  getBytes(key: string): Promise<Buffer>;
  /** `length` bytes from `offset` (fewer if the object ends first). INVALID_RANGE if offset is past the end. */
  getRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** Size, ETag, content type, modification time and metadata, or null when the object does not exist. */
  stat(key: string): Promise<ObjectStat | null>;
  /** Deletes one object; deleting an absent object is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix`; returns how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;
  /** Every object under `prefix`, in key order (for the platform's own use; never exposed to clients). */
  list(prefix: string): AsyncGenerator<ListedObject>;
  /** A GET URL valid for `expirySeconds` (1 s .. 7 days); `downloadName` makes browsers save it under that name. */
  presignedGet(key: string, expirySeconds: number, options?: { downloadName?: string }): Promise<string>;

  /** Starts a multipart upload whose parts clients PUT to presignedPartUrl(); returns the upload id. */
  createMultipartUpload(key: string, contentType?: string): Promise<string>;
  /** A PUT URL for one part (1..10000). The response's ETag header is what completeMultipartUpload needs. */
  presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expirySeconds: number,
    options?: PresignedPartOptions,
  ): Promise<string>;
  /** Parts uploaded so far, by part number. UPLOAD_NOT_FOUND for an unknown upload or another key's. */
  listParts(key: string, uploadId: string): Promise<UploadedPartInfo[]>;
  /**
   * Assembles the given parts (in part-number order) into the object. INVALID_PART when a part is
   * missing or its ETag differs from the stored part's; UPLOAD_NOT_FOUND for an unknown upload.
   */
  completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<{ etag: string }>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

export const MAX_PRESIGN_SECONDS = 604_800;
export const MAX_PARTS = 10_000;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Validates an object key: non-empty, at most 1024 bytes, relative, no "." or ".." segments, no control characters. */
export function assertObjectKey(key: string): string {
  const segments = key.split('/');
  const ok =
    key.length > 0 &&
    Buffer.byteLength(key) <= 1024 &&
    !key.startsWith('/') &&
    ![...key].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) &&
    segments.every((s, i) => (s !== '' || i === segments.length - 1) && s !== '.' && s !== '..');
  if (!ok) throw new StorageError('INVALID_KEY', `object key "${key}" is not valid`, { key });
  return key;
}

export function assertExpiry(expirySeconds: number): number {
  if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `expiry must be an integer between 1 and ${MAX_PRESIGN_SECONDS} seconds`,
      { expirySeconds },
    );
  }
  return expirySeconds;
}

export function assertPartNumber(partNumber: number): number {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new StorageError('INVALID_ARGUMENT', `part number must be an integer between 1 and ${MAX_PARTS}`, {
      partNumber,
    });
  }
  return partNumber;
}

export function assertSize(key: string, size: number | undefined): void {
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new StorageError('INVALID_ARGUMENT', 'size must be a non-negative integer', { key });
  }
}

export function assertRangeArgs(key: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 1) {
    throw new StorageError('INVALID_ARGUMENT', 'offset must be >= 0 and length >= 1 (integers)', {
      key,
      offset,
      length,
    });
  }
}

/** Metadata names as S3 keeps them: letters, digits and "-", lower-cased. */
export function normalizedMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (!/^[A-Za-z0-9-]+$/.test(name))
      throw new StorageError('INVALID_ARGUMENT', `metadata name "${name}" must be letters, digits and "-"`);
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** `attachment` Content-Disposition with an ASCII fallback and an RFC 5987 UTF-8 name. */
export function contentDisposition(downloadName: string): string {
  const ascii = downloadName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(downloadName)}`;
}

/** An ETag without its surrounding quotes. */
export function cleanEtag(etag: string | undefined | null): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

export function checkStreamSize(key: string, expected: number | undefined, actual: number): void {
  if (expected !== undefined && expected !== actual) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `stream for "${key}" had ${actual} bytes, expected ${expected}`,
      { key, expected, actual },
    );
  }
}

/**
 * Whole-object reads with sizes, in the shape libs/ml's ArtifactReader and libs/datasets' shard
 * sources expect: `size` lets a reader refuse an oversized object before downloading it.
 */
export function objectBytesReader(store: ObjectStore): {
  get(key: string): Promise<Uint8Array>;
  size(key: string): Promise<number | null>;
} {
  return {
    get: async (key) => new Uint8Array(await store.getBytes(key)),
    size: async (key) => (await store.stat(key))?.size ?? null,
  };
}
