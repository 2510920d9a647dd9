import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startTestS3, type TestS3 } from '../../../test/support/s3';
import { Client } from 'minio';
import {
  clientOptions,
  isStorageError,
  objectBytesReader,
  S3ObjectStore,
  StorageError,
  type StorageErrorCode,
} from './index';

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

// The cases every driver shares (ranges, listing, prefix deletes, refusals...) are in
// test/storage/object-store.conformance.int-spec.ts; these are the S3 driver's own.

/** jest's toEqual walks buffers byte by byte (minutes for megabytes); compare them natively. */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

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
    it('ensureReady is idempotent and ping succeeds', async () => {
      await store.ensureReady();
      await store.ensureReady();
      await expect(store.ping()).resolves.toBeUndefined();
    });

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

  describe('put, get, stat, delete', () => {
    it('stores bytes and reads them back with their type and size', async () => {
      const body = Buffer.from('{"hello":"world"}');
      const put = await store.putBytes('t/a.json', body, 'application/json');
      expect(put.size).toBe(body.length);
      expect(await store.getBytes('t/a.json')).toEqual(body);
      const stat = await store.stat('t/a.json');
      expect(stat).toMatchObject({ size: body.length, contentType: 'application/json', etag: put.etag });
      expect(stat?.etag).toBe(createHash('md5').update(body).digest('hex'));
      expect(stat?.lastModified).toBeInstanceOf(Date);
    });

    it('streams a small object in one PUT with metadata', async () => {
      const res = await store.putStream(
        't/small.txt',
        Readable.from([Buffer.from('abc'), Buffer.from('def')]),
        {
          contentType: 'text/plain',
          metadata: { 'original-name': 'small.txt' },
        },
      );
      expect(res.size).toBe(6);
      expect((await store.getBytes('t/small.txt')).toString()).toBe('abcdef');
      expect(await store.stat('t/small.txt')).toMatchObject({
        contentType: 'text/plain',
        metadata: { 'original-name': 'small.txt' },
      });
    });

    it('stores an empty stream as an empty object', async () => {
      await store.putStream('t/empty', Readable.from([]), { size: 0 });
      expect(await store.stat('t/empty')).toMatchObject({ size: 0 });
      expect((await store.getBytes('t/empty')).length).toBe(0);
    });

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

    it('rejects a stream whose length differs from the declared size and stores nothing', async () => {
      await expectCode(
        store.putStream('t/short', Readable.from([Buffer.alloc(10)]), { size: 11 }),
        'INVALID_ARGUMENT',
      );
      expect(await store.stat('t/short')).toBeNull();
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

    it('a missing object is OBJECT_NOT_FOUND for reads and null for stat', async () => {
      const err = await expectCode(store.getStream('t/nope'), 'OBJECT_NOT_FOUND');
      expect(err.details.key).toBe('t/nope');
      await expectCode(store.getBytes('t/nope'), 'OBJECT_NOT_FOUND');
      await expectCode(store.getRange('t/nope', 0, 10), 'OBJECT_NOT_FOUND');
      expect(await store.stat('t/nope')).toBeNull();
      expect(isStorageError(err, 'OBJECT_NOT_FOUND')).toBe(true);
    });

    it('delete removes an object and tolerates an absent one', async () => {
      await store.putBytes('t/del', Buffer.from('x'));
      await store.delete('t/del');
      expect(await store.stat('t/del')).toBeNull();
      await expect(store.delete('t/del')).resolves.toBeUndefined();
    });

    it('refuses invalid keys before calling the server', async () => {
      for (const key of ['', '/abs', 'a/../b', 'a//b', './a', 'a\u0000b'])
        await expectCode(store.putBytes(key, Buffer.from('x')), 'INVALID_KEY');
    });
  });

  describe('presigned GET', () => {
    it('serves the object to a plain HTTP client with the requested expiry', async () => {
      const body = Buffer.from('model bytes');
      await store.putBytes('p/model.bin', body, 'application/octet-stream');
      const url = await store.presignedGet('p/model.bin', 600);
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('600');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(body);
    });

    it('asks for a download name through Content-Disposition', async () => {
      await store.putBytes('p/m.zip', Buffer.from('zip'), 'application/zip');
      const url = await store.presignedGet('p/m.zip', 60, { downloadName: 'my model é.zip' });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const disposition = res.headers.get('content-disposition') ?? '';
      expect(disposition).toContain('attachment; filename="my model _.zip"');
      expect(disposition).toContain("filename*=UTF-8''my%20model%20%C3%A9.zip");
    });

    it('the server refuses a URL whose expiry has passed', async () => {
      await store.putBytes('p/old.bin', Buffer.from('old'));
      // Signed two minutes ago for 60 s: expired without waiting.
      const signer = new Client(clientOptions(s3.config.endpoint, s3.config));
      const url = await signer.presignedGetObject(
        s3.config.bucket,
        'p/old.bin',
        60,
        {},
        new Date(Date.now() - 120_000),
      );
      expect((await fetch(url)).status).toBe(403);
      expect((await fetch(await store.presignedGet('p/old.bin', 60))).status).toBe(200);
    });

    it('rejects expiries outside 1 s .. 7 days', async () => {
      await expectCode(store.presignedGet('p/model.bin', 0), 'INVALID_ARGUMENT');
      await expectCode(store.presignedGet('p/model.bin', 604_801), 'INVALID_ARGUMENT');
    });

    it('a presigned URL for a missing object answers 404', async () => {
      const res = await fetch(await store.presignedGet('p/missing', 60));
      expect(res.status).toBe(404);
    });
  });

  describe('multipart upload through presigned part URLs', () => {
    async function putPart(url: string, body: Buffer): Promise<string> {
      const res = await fetch(url, { method: 'PUT', body });
      expect(res.status).toBe(200);
      const etag = res.headers.get('etag');
      expect(etag).toBeTruthy();
      return etag ?? '';
    }

    it('uploads parts with fetch, lists them, and completes into one object', async () => {
      const key = 'u/upload.zip';
      const part1 = randomBytes(5 * MiB);
      const part2 = randomBytes(1234);
      const uploadId = await store.createMultipartUpload(key, 'application/zip');
      expect(uploadId).toMatch(/\S+/);
      const url2 = await store.presignedPartUrl(key, uploadId, 2, 900);
      const url1 = await store.presignedPartUrl(key, uploadId, 1, 900);
      expect(new URL(url1).searchParams.get('partNumber')).toBe('1');
      expect(new URL(url1).searchParams.get('X-Amz-Expires')).toBe('900');
      const etag2 = await putPart(url2, part2);
      const etag1 = await putPart(url1, part1);

      const parts = await store.listParts(key, uploadId);
      expect(parts.map((p) => [p.partNumber, p.size, p.etag])).toEqual([
        [1, part1.length, etag1.replace(/"/g, '')],
        [2, part2.length, etag2.replace(/"/g, '')],
      ]);

      await store.completeMultipartUpload(key, uploadId, [
        { partNumber: 2, etag: etag2 },
        { partNumber: 1, etag: etag1 },
      ]);
      expect(await store.stat(key)).toMatchObject({
        size: part1.length + part2.length,
        contentType: 'application/zip',
      });
      expectSameBytes(await store.getBytes(key), Buffer.concat([part1, part2]));
    });

    it('abort discards the upload; later calls on it are UPLOAD_NOT_FOUND', async () => {
      const key = 'u/aborted.bin';
      const uploadId = await store.createMultipartUpload(key, 'application/octet-stream');
      const etag = await putPart(await store.presignedPartUrl(key, uploadId, 1, 60), Buffer.from('part'));
      await store.abortMultipartUpload(key, uploadId);
      await expectCode(store.listParts(key, uploadId), 'UPLOAD_NOT_FOUND');
      await expectCode(
        store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]),
        'UPLOAD_NOT_FOUND',
      );
      expect(await store.stat(key)).toBeNull();
    });

    it('an upload id is bound to its key', async () => {
      const uploadId = await store.createMultipartUpload('u/one', 'text/plain');
      await expectCode(store.listParts('u/other', uploadId), 'UPLOAD_NOT_FOUND');
      await store.abortMultipartUpload('u/one', uploadId);
    });

    it('validates part numbers and the part list', async () => {
      await expectCode(store.presignedPartUrl('u/x', 'id', 0, 60), 'INVALID_ARGUMENT');
      await expectCode(store.presignedPartUrl('u/x', 'id', 10_001, 60), 'INVALID_ARGUMENT');
      await expectCode(store.completeMultipartUpload('u/x', 'id', []), 'INVALID_ARGUMENT');
    });
  });
});
