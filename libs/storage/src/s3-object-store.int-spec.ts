import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startTestS3, type TestS3 } from '../../../test/support/s3';
import { objectBytesReader, S3ObjectStore, StorageError, type StorageErrorCode } from './index';

const MiB = 1024 * 1024;

// Real HTTP round trips on a 2-core machine: 1000+ small PUTs and a 50 MB upload take seconds.
jest.setTimeout(120_000);

/**
 * Deterministic bytes generated chunk by chunk on demand (a random 1 MiB block stamped with a
 * counter), yielding to the event loop between chunks as a network or file source would.
 */
function generatedStream(
  totalBytes: number,
  onChunk?: (bytes: number) => void,
): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  const block = randomBytes(MiB);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let produced = 0, n = 0; produced < totalBytes; n++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, totalBytes - produced)));
      chunk.writeUInt32BE(n, 0);
      produced += chunk.length;
      hash.update(chunk);
      onChunk?.(chunk.length);
      await new Promise((resolve) => setImmediate(resolve));
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks()), sha256: () => hash.digest('hex') };
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The cases every driver shares (put/get/stat/delete, keys, ranges, listing, prefix deletes,
// presigned GETs and multipart uploads, refusals...) run against this driver in
// test/storage/object-store.conformance.int-spec.ts; these are the S3 driver's own.

/** Bytes of multipart parts the local server has received so far (s3rver's upload folders). */
function bytesOfStoredParts(directory: string, bucket: string): number {
  const uploads = join(directory, bucket, '._S3rver_uploads');
  let total = 0;
  let ids: string[] = [];
  try {
    ids = readdirSync(uploads);
  } catch {
    return 0;
  }
  for (const id of ids) {
    for (const f of readdirSync(join(uploads, id)))
      if (/^\d+$/.test(f)) total += statSync(join(uploads, id, f)).size;
  }
  return total;
}

async function expectCode(promise: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  const err: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

describe('S3ObjectStore against a real S3-protocol server (s3rver): what only the S3 driver has', () => {
  let s3: TestS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    s3 = await startTestS3();
    store = s3.store;
  });
  afterAll(async () => {
    await s3.stop();
    await s3.stop();
  });

  it('objectBytesReader tells sizes without downloading, and null for a missing object', async () => {
    const reader = objectBytesReader(store);
    await store.putBytes('reader/one.bin', new Uint8Array([1, 2, 3, 4, 5]));
    expect(await reader.size('reader/one.bin')).toBe(5);
    expect(await reader.size('reader/missing.bin')).toBeNull();
    expect([...(await reader.get('reader/one.bin'))]).toEqual([1, 2, 3, 4, 5]);
  });

  describe('bucket and readiness', () => {
    it('ensureReady creates a missing bucket; ping reports a missing one', async () => {
      const other = new S3ObjectStore({ ...s3.config, bucket: 'created-at-boot' });
      await expectCode(other.ping(), 'BUCKET_NOT_FOUND');
      await other.ensureReady();
      await expect(other.ping()).resolves.toBeUndefined();
    });

    it('survives the server closing an idle keep-alive connection the client is about to reuse', async () => {
      await store.putBytes('k/alive', Buffer.from('x'));
      for (let i = 0; i < 5; i++) {
        expect(await store.stat('k/alive')).toMatchObject({ size: 1 });
        s3.server.dropIdleConnections();
        // same tick: the client still holds the socket as free when the next request starts
        expect(await store.stat('k/alive')).toMatchObject({ size: 1 });
      }
    });

    it('ping reports an unreachable server as STORAGE_UNAVAILABLE', async () => {
      const closed = await startTestS3();
      await closed.stop();
      const dead = new S3ObjectStore(closed.config);
      await expectCode(dead.ping(), 'STORAGE_UNAVAILABLE');
    });
  });

  describe('streamed uploads (multipart past one part)', () => {
    it('streams a 50 MB generated stream part by part, never more than two parts ahead of the server', async () => {
      const total = 50 * MiB;
      const partSize = 8 * MiB; // the store's default
      let produced = 0;
      let maxLead = 0;
      let storedBeforeEnd = 0;
      const { stream, sha256 } = generatedStream(total, (bytes) => {
        const stored = bytesOfStoredParts(s3.directory, s3.config.bucket);
        produced += bytes;
        maxLead = Math.max(maxLead, produced - stored);
        if (produced === total) storedBeforeEnd = stored;
      });
      const put = await store.putStream('t/big.bin', stream, {
        contentType: 'application/octet-stream',
        metadata: { kind: 'big' },
      });
      expect(put.size).toBe(total);
      // The source was read as the upload progressed: most of it had reached the server before its
      // end, and it never ran more than two parts (+ one chunk) ahead of what the server held.
      expect(storedBeforeEnd).toBeGreaterThanOrEqual(total - 2 * partSize - MiB);
      expect(maxLead).toBeLessThanOrEqual(2 * partSize + MiB);
      expect(await store.stat('t/big.bin')).toMatchObject({
        size: total,
        contentType: 'application/octet-stream',
        metadata: { kind: 'big' },
      });
      expect(await sha256Of(await store.getStream('t/big.bin'))).toBe(sha256());
    });

    it('rejects a multipart stream shorter than its declared size and stores nothing', async () => {
      const { stream } = generatedStream(12 * MiB);
      await expectCode(store.putStream('t/short-multi', stream, { size: 20 * MiB }), 'INVALID_ARGUMENT');
      expect(await store.stat('t/short-multi')).toBeNull();
    });

    it("passes a failing source stream's error through and stores nothing (multipart aborted)", async () => {
      const boom = new Error('client went away');
      async function* failing(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 20; i++) yield Buffer.alloc(MiB, i);
        throw boom;
      }
      await expect(store.putStream('t/failed.bin', Readable.from(failing()))).rejects.toBe(boom);
      expect(await store.stat('t/failed.bin')).toBeNull();
      expect(bytesOfStoredParts(s3.directory, s3.config.bucket)).toBe(0);
      async function* failingEarly(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(10);
        throw boom;
      }
      await expect(store.putStream('t/failed-small.bin', Readable.from(failingEarly()))).rejects.toBe(boom);
      expect(await store.stat('t/failed-small.bin')).toBeNull();
    });
  });

  describe('presigned GET', () => {
    it('a GET URL carries the requested expiry as X-Amz-Expires and serves the object', async () => {
      const body = Buffer.from('model bytes');
      await store.putBytes('p/model.bin', body, 'application/octet-stream');
      const url = await store.presignedGet('p/model.bin', 600);
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('600');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(body);
    });
  });

  describe('multipart upload through presigned part URLs', () => {
    it('a part URL names its part and expiry in the S3 query parameters', async () => {
      const key = 'u/upload.zip';
      const uploadId = await store.createMultipartUpload(key, 'application/zip');
      expect(uploadId).toMatch(/\S+/);
      const url = new URL(await store.presignedPartUrl(key, uploadId, 1, 900));
      expect(url.searchParams.get('partNumber')).toBe('1');
      expect(url.searchParams.get('uploadId')).toBe(uploadId);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      await store.abortMultipartUpload(key, uploadId);
    });
  });
});
