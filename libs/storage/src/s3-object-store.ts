import type { Readable } from 'node:stream';
import { StorageError, toStorageError } from './errors';
import { StoreClient } from './minio-client';
import {
  assertExpiry,
  assertObjectKey,
  assertPartNumber,
  assertRangeArgs,
  assertSize,
  checkStreamSize,
  cleanEtag,
  contentDisposition,
  DEFAULT_CONTENT_TYPE,
  MAX_PARTS,
  normalizedMetadata,
  type CompletedPart,
  type ListedObject,
  type ObjectStat,
  type ObjectStore,
  type PresignedPartOptions,
  type PutOptions,
  type PutResult,
  type UploadedPartInfo,
} from './object-store';
import {
  clientOptions,
  DEFAULT_PART_SIZE,
  MIN_PART_SIZE,
  type ObjectStoreConfig,
} from './object-store-config';
import { retryOnReset } from './retry';
import { readAll, streamParts } from './stream-parts';

const DELETE_BATCH = 1000;

function headersFor(
  contentType: string | undefined,
  metadata: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': contentType ?? DEFAULT_CONTENT_TYPE };
  for (const [name, value] of Object.entries(normalizedMetadata(metadata)))
    headers[`X-Amz-Meta-${name}`] = value;
  return headers;
}

/**
 * The S3 driver of the object store: one bucket on any S3-compatible server (MinIO, AWS S3).
 * Plain TypeScript over the minio client; every failure is a StorageError with a stable code.
 */
export class S3ObjectStore implements ObjectStore {
  readonly driver = 's3' as const;
  readonly bucket: string;
  private readonly client: StoreClient;
  /** Signs presigned URLs for the host clients reach; the same as `client` unless publicEndpoint is set. */
  private readonly presigner: StoreClient;
  private readonly partSize: number;

  constructor(config: ObjectStoreConfig) {
    this.bucket = config.bucket;
    this.client = new StoreClient(clientOptions(config.endpoint, config));
    this.presigner = config.publicEndpoint
      ? new StoreClient(clientOptions(config.publicEndpoint, config))
      : this.client;
    this.partSize = config.partSize ?? DEFAULT_PART_SIZE;
    if (this.partSize < MIN_PART_SIZE) {
      throw new StorageError('STORAGE_CONFIG_INVALID', `partSize must be at least ${MIN_PART_SIZE} bytes`, {
        partSize: this.partSize,
      });
    }
  }

  /** Creates the bucket if it does not exist (called at boot). Safe to run concurrently. */
  async ensureReady(): Promise<void> {
    try {
      if (await retryOnReset(() => this.client.bucketExists(this.bucket))) return;
      await retryOnReset(() => this.client.makeBucket(this.bucket));
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists') return;
      throw toStorageError(e, 'ensureBucket');
    }
  }

  /** Readiness probe: the server answers and the bucket exists. */
  async ping(): Promise<void> {
    let exists: boolean;
    try {
      exists = await retryOnReset(() => this.client.bucketExists(this.bucket));
    } catch (e) {
      throw toStorageError(e, 'ping');
    }
    if (!exists)
      throw new StorageError('BUCKET_NOT_FOUND', `bucket "${this.bucket}" does not exist`, {
        bucket: this.bucket,
      });
  }

  /**
   * Streams `stream` into `key`. Objects up to one part go up in a single PUT; larger ones as a
   * multipart upload, part by part, so memory stays around two parts whatever the object size.
   * If the source stream fails, its error is rethrown as is and nothing is stored.
   */
  async putStream(
    key: string,
    stream: Readable | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    assertObjectKey(key);
    const { size } = options;
    assertSize(key, size);
    const headers = headersFor(options.contentType, options.metadata);
    const partSize =
      size === undefined ? this.partSize : Math.max(this.partSize, Math.ceil(size / MAX_PARTS));
    const parts = streamParts(stream, partSize);
    const first = await parts.next();
    const second = first.done ? first : await parts.next();
    if (second.done) {
      const body = first.done ? Buffer.alloc(0) : first.value;
      checkStreamSize(key, size, body.length);
      return this.putBuffer(key, body, headers);
    }
    return this.putMultipart(key, headers, size, [first.value as Buffer, second.value], parts);
  }

  /** Stores a small in-memory object. */
  async putBytes(key: string, bytes: Uint8Array, contentType?: string): Promise<PutResult> {
    assertObjectKey(key);
    return this.putBuffer(
      key,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      headersFor(contentType, undefined),
    );
  }

  /** The object's content as a stream. OBJECT_NOT_FOUND if absent. */
  async getStream(key: string): Promise<Readable> {
    assertObjectKey(key);
    try {
      return await retryOnReset(() => this.client.getObject(this.bucket, key));
    } catch (e) {
      throw toStorageError(e, 'getObject', key);
    }
  }

  /** The whole object in memory (small objects only). */
  async getBytes(key: string): Promise<Buffer> {
    const stream = await this.getStream(key);
    try {
      return await readAll(stream);
    } catch (e) {
      throw toStorageError(e, 'getObject', key);
    }
  }

  /** `length` bytes from `offset` (fewer if the object ends first). INVALID_RANGE if offset is past the end. */
  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    assertObjectKey(key);
    assertRangeArgs(key, offset, length);
    try {
      return await retryOnReset(async () =>
        readAll(await this.client.getPartialObject(this.bucket, key, offset, length)),
      );
    } catch (e) {
      throw toStorageError(e, 'getPartialObject', key);
    }
  }

  /** Size, ETag, content type and modification time, or null when the object does not exist. */
  async stat(key: string): Promise<ObjectStat | null> {
    assertObjectKey(key);
    try {
      const s = await retryOnReset(() => this.client.statObject(this.bucket, key));
      const metadata: Record<string, string> = {};
      let contentType: string | null = null;
      for (const [name, value] of Object.entries(s.metaData)) {
        if (typeof value !== 'string') continue;
        if (name.toLowerCase() === 'content-type') contentType = value;
        else metadata[name.toLowerCase().replace(/^x-amz-meta-/, '')] = value;
      }
      return { size: s.size, etag: cleanEtag(s.etag), contentType, lastModified: s.lastModified, metadata };
    } catch (e) {
      const err = toStorageError(e, 'statObject', key);
      if (err.code === 'OBJECT_NOT_FOUND') return null;
      throw err;
    }
  }

  /** Deletes one object; deleting an absent object is not an error. */
  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    try {
      await retryOnReset(() => this.client.removeObject(this.bucket, key));
    } catch (e) {
      throw toStorageError(e, 'removeObject', key);
    }
  }

  /** Deletes every object under `prefix` in batches of 1000; returns how many were deleted. */
  async deletePrefix(prefix: string): Promise<number> {
    if (prefix.length === 0)
      throw new StorageError('INVALID_ARGUMENT', 'deletePrefix needs a non-empty prefix');
    assertObjectKey(prefix);
    let deleted = 0;
    let batch: string[] = [];
    for await (const item of this.list(prefix)) {
      batch.push(item.key);
      if (batch.length === DELETE_BATCH) {
        deleted += await this.deleteBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) deleted += await this.deleteBatch(batch);
    return deleted;
  }

  /** Every object under `prefix`, in key order, following pagination. */
  async *list(prefix: string): AsyncGenerator<ListedObject> {
    if (prefix !== '') assertObjectKey(prefix);
    try {
      const stream = this.client.listObjectsV2(this.bucket, prefix, true);
      for await (const raw of stream) {
        const item = raw as { name?: string; size?: number; etag?: string; lastModified?: Date };
        if (item.name === undefined) continue;
        yield {
          key: item.name,
          size: item.size ?? 0,
          etag: cleanEtag(item.etag),
          lastModified: item.lastModified ?? new Date(0),
        };
      }
    } catch (e) {
      throw toStorageError(e, 'listObjectsV2', prefix);
    }
  }

  /** A GET URL valid for `expirySeconds`; `downloadName` makes browsers save it under that name. */
  async presignedGet(
    key: string,
    expirySeconds: number,
    options: { downloadName?: string } = {},
  ): Promise<string> {
    assertObjectKey(key);
    assertExpiry(expirySeconds);
    const params = options.downloadName
      ? { 'response-content-disposition': contentDisposition(options.downloadName) }
      : undefined;
    try {
      return await this.presigner.presignedGetObject(this.bucket, key, expirySeconds, params);
    } catch (e) {
      throw toStorageError(e, 'presignedGetObject', key);
    }
  }

  /** Starts a multipart upload whose parts clients PUT to presignedPartUrl(); returns the upload id. */
  async createMultipartUpload(key: string, contentType?: string): Promise<string> {
    assertObjectKey(key);
    return this.initiate(key, headersFor(contentType, undefined));
  }

  /** A PUT URL for one part (1..10000). The response's ETag header is what completeMultipartUpload needs. */
  async presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expirySeconds: number,
    _options: PresignedPartOptions = {},
  ): Promise<string> {
    assertObjectKey(key);
    assertPartNumber(partNumber);
    assertExpiry(expirySeconds);
    try {
      return await this.presigner.presignedUrl('PUT', this.bucket, key, expirySeconds, {
        partNumber: String(partNumber),
        uploadId,
      });
    } catch (e) {
      throw toStorageError(e, 'presignedPartUrl', key);
    }
  }

  /** Parts uploaded so far. */
  async listParts(key: string, uploadId: string): Promise<UploadedPartInfo[]> {
    assertObjectKey(key);
    try {
      return await retryOnReset(() => this.client.listUploadedParts(this.bucket, key, uploadId));
    } catch (e) {
      throw toStorageError(e, 'listParts', key);
    }
  }

  /** Assembles the parts (in part-number order) into the object. */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: CompletedPart[],
  ): Promise<{ etag: string }> {
    assertObjectKey(key);
    if (parts.length === 0)
      throw new StorageError('INVALID_ARGUMENT', 'a multipart upload needs at least one part', { key });
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    sorted.forEach((p) => assertPartNumber(p.partNumber));
    try {
      const etags = sorted.map((p) => ({ part: p.partNumber, etag: cleanEtag(p.etag) }));
      const res = await retryOnReset(() =>
        this.client.completeMultipartUpload(this.bucket, key, uploadId, etags),
      );
      return { etag: cleanEtag(res.etag) };
    } catch (e) {
      throw toStorageError(e, 'completeMultipartUpload', key);
    }
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    assertObjectKey(key);
    try {
      await retryOnReset(() => this.client.abortMultipartUpload(this.bucket, key, uploadId));
    } catch (e) {
      throw toStorageError(e, 'abortMultipartUpload', key);
    }
  }

  private async initiate(key: string, headers: Record<string, string>): Promise<string> {
    try {
      return await retryOnReset(() => this.client.initiateNewMultipartUpload(this.bucket, key, headers));
    } catch (e) {
      throw toStorageError(e, 'createMultipartUpload', key);
    }
  }

  private async deleteBatch(batch: string[]): Promise<number> {
    let results;
    try {
      results = await retryOnReset(() => this.client.removeObjects(this.bucket, batch));
    } catch (e) {
      throw toStorageError(e, 'removeObjects', batch[0]);
    }
    const failed = results.filter((r) => r?.Error);
    if (failed.length > 0) {
      const first = failed[0]?.Error;
      throw new StorageError(
        'STORAGE_ERROR',
        `could not delete ${failed.length} of ${batch.length} objects (first: ${first?.Key ?? '?'}: ${first?.Message ?? first?.Code ?? 'unknown'})`,
        {
          operation: 'removeObjects',
        },
      );
    }
    return batch.length;
  }

  private async putBuffer(key: string, body: Buffer, headers: Record<string, string>): Promise<PutResult> {
    try {
      const res = await retryOnReset(() =>
        this.client.putObject(this.bucket, key, body, body.length, headers),
      );
      return { etag: cleanEtag(res.etag), size: body.length };
    } catch (e) {
      throw toStorageError(e, 'putObject', key);
    }
  }

  private async putMultipart(
    key: string,
    headers: Record<string, string>,
    expectedSize: number | undefined,
    head: Buffer[],
    rest: AsyncGenerator<Buffer>,
  ): Promise<PutResult> {
    const uploadId = await this.initiate(key, headers);
    try {
      const done: CompletedPart[] = [];
      let size = 0;
      const upload = async (body: Buffer): Promise<void> => {
        const partNumber = done.length + 1;
        if (partNumber > MAX_PARTS)
          throw new StorageError('INVALID_ARGUMENT', `object "${key}" needs more than ${MAX_PARTS} parts`, {
            key,
          });
        const res = await retryOnReset(() =>
          this.client.uploadPart(
            { bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber, headers: {} },
            body,
          ),
        ).catch((e: unknown) => {
          throw toStorageError(e, 'uploadPart', key);
        });
        done.push({ partNumber, etag: res.etag });
        size += body.length;
      };
      for (const body of head) await upload(body);
      for await (const body of rest) await upload(body);
      checkStreamSize(key, expectedSize, size);
      const { etag } = await this.completeMultipartUpload(key, uploadId, done);
      return { etag, size };
    } catch (e) {
      // Storage failures arrive here as StorageErrors; anything else is the source stream's own error.
      await this.abortMultipartUpload(key, uploadId).catch(() => undefined);
      throw e;
    }
  }
}
