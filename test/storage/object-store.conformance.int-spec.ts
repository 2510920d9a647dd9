/**
 * One set of cases for both object store drivers: the S3 driver against the S3-protocol test server
 * (s3rver) and the filesystem driver over a temporary directory, its presigned URLs served by the
 * API's own object routes. Cases the test server cannot pass (it checks no signatures and no part
 * ETags) are reported skipped for it with the reason; MinIO and S3 check both.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import {
  clientOptions,
  FsObjectStore,
  isStorageError,
  objectBytesReader,
  StorageError,
  type ObjectStore,
  type StorageErrorCode,
} from '@modelsmith/storage';
import { startTestS3 } from '../support/s3';
import { startTestFsStore } from '../support/fs-store';
import { itIf } from '../support/skip';
import { startObjectsApi } from '../support/objects-api';

const MiB = 1024 * 1024;
jest.setTimeout(180_000);

interface Harness {
  store: ObjectStore;
  /** A presigned GET URL of `key` whose expiry passed a minute ago. */
  expiredGetUrl(key: string): Promise<string>;
  stop(): Promise<void>;
}

interface Driver {
  name: string;
  /** The server verifies URL signatures (s3rver does not). */
  verifiesSignatures: boolean;
  /** Completion checks that every given part exists with the given ETag (s3rver does not, and crashes on a missing part). */
  checksParts: boolean;
  /** A replaced object appears whole to readers (s3rver writes in place). */
  atomicWrites: boolean;
  start(): Promise<Harness>;
}

const drivers: Driver[] = [
  {
    name: 'S3 driver against s3rver',
    verifiesSignatures: false,
    checksParts: false,
    atomicWrites: false,
    start: async () => {
      const s3 = await startTestS3();
      return {
        store: s3.store,
        expiredGetUrl: (key) =>
          new Client(clientOptions(s3.config.endpoint, s3.config)).presignedGetObject(
            s3.config.bucket,
            key,
            60,
            {},
            new Date(Date.now() - 120_000),
          ),
        stop: () => s3.stop(),
      };
    },
  },
  {
    name: 'filesystem driver with the API object routes',
    verifiesSignatures: true,
    checksParts: true,
    atomicWrites: true,
    start: async () => {
      let stopStore = async () => undefined as void;
      const api = await startObjectsApi(async (baseUrl) => {
        const fs = await startTestFsStore({ baseUrl });
        stopStore = fs.stop;
        return fs.store;
      });
      return {
        store: api.store,
        expiredGetUrl: async (key) => {
          const signer = api.store.urlSigner;
          if (!signer) throw new Error('no signer');
          return signer.sign({ method: 'GET', key, expires: Math.floor(Date.now() / 1000) - 60 });
        },
        stop: async () => {
          await api.close();
          await stopStore();
        },
      };
    },
  },
];

async function expectCode(promise: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  const err: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

async function putPart(url: string, body: Buffer): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body });
  expect(res.status).toBe(200);
  const etag = res.headers.get('etag');
  expect(etag).toBeTruthy();
  return etag ?? '';
}

/** A refusal: 403/404 problem+json that carries none of the object's bytes. */
async function expectRefused(res: Response, secret?: Buffer): Promise<void> {
  expect([403, 404]).toContain(res.status);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  const body = Buffer.from(await res.arrayBuffer());
  expect(JSON.parse(body.toString()).code).toMatch(/^(FORBIDDEN|NOT_FOUND)$/);
  if (secret) expect(body.includes(secret)).toBe(false);
}

describe.each(drivers)('ObjectStore conformance: $name', (driver) => {
  let h: Harness;
  let store: ObjectStore;
  const signatureReason = 's3rver checks no signatures; MinIO and S3 do';
  const withSignatures = itIf(driver.verifiesSignatures, signatureReason);
  const signatureNote = driver.verifiesSignatures ? '' : ` [skipped: ${signatureReason}]`;
  const withPartChecks = itIf(
    driver.checksParts,
    's3rver checks no part ETags and crashes on a missing part; MinIO and S3 check them',
  );

  beforeAll(async () => {
    h = await driver.start();
    store = h.store;
  });
  afterAll(async () => {
    await h.stop();
  });

  it('is ready and answers ping; ensureReady is idempotent', async () => {
    await store.ensureReady();
    await store.ensureReady();
    await expect(store.ping()).resolves.toBeUndefined();
  });

  describe('put, get, stat, delete', () => {
    it('stores bytes and reads them back with type, size and MD5 ETag', async () => {
      const body = Buffer.from('{"hello":"world"}');
      const put = await store.putBytes('t/a.json', body, 'application/json');
      expect(put).toEqual({ size: body.length, etag: md5(body) });
      expect((await store.getBytes('t/a.json')).equals(body)).toBe(true);
      const stat = await store.stat('t/a.json');
      expect(stat).toMatchObject({
        size: body.length,
        contentType: 'application/json',
        etag: md5(body),
        metadata: {},
      });
      expect(Math.abs((stat?.lastModified.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
      expect(await objectBytesReader(store).size('t/a.json')).toBe(body.length);
    });

    it('streams an object with metadata (names lower-cased), and replaces it whole', async () => {
      const res = await store.putStream(
        't/small.txt',
        Readable.from([Buffer.from('abc'), Buffer.from('def')]),
        { contentType: 'text/plain', metadata: { 'Original-Name': 'small.txt' } },
      );
      expect(res.size).toBe(6);
      expect((await store.getBytes('t/small.txt')).toString()).toBe('abcdef');
      expect(await store.stat('t/small.txt')).toMatchObject({
        contentType: 'text/plain',
        metadata: { 'original-name': 'small.txt' },
      });
      await store.putBytes('t/small.txt', Buffer.from('x'));
      expect((await store.getBytes('t/small.txt')).toString()).toBe('x');
      expect(await store.stat('t/small.txt')).toMatchObject({
        size: 1,
        contentType: 'application/octet-stream',
        metadata: {},
      });
    });

    it('stores an empty object', async () => {
      await store.putStream('t/empty', Readable.from([]), { size: 0 });
      expect(await store.stat('t/empty')).toMatchObject({ size: 0 });
      expect((await store.getBytes('t/empty')).length).toBe(0);
      const chunks: Buffer[] = [];
      for await (const c of await store.getStream('t/empty')) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).length).toBe(0);
    });

    it('keeps "a" and "a/b" apart (an object and a prefix of the same name)', async () => {
      await store.putBytes('c/a', Buffer.from('file'));
      await store.putBytes('c/a/b', Buffer.from('below'));
      expect((await store.getBytes('c/a')).toString()).toBe('file');
      expect((await store.getBytes('c/a/b')).toString()).toBe('below');
      await store.delete('c/a');
      expect((await store.getBytes('c/a/b')).toString()).toBe('below');
    });

    it('rejects a stream shorter or longer than its declared size and stores nothing', async () => {
      await expectCode(
        store.putStream('t/short', Readable.from([Buffer.alloc(10)]), { size: 11 }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        store.putStream('t/long', Readable.from([Buffer.alloc(10 * MiB)]), { size: 10 }),
        'INVALID_ARGUMENT',
      );
      expect(await store.stat('t/short')).toBeNull();
      expect(await store.stat('t/long')).toBeNull();
    });

    it("passes a failing source's error through as is and stores nothing", async () => {
      const boom = new Error('client went away');
      async function* failing(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 12; i++) yield Buffer.alloc(MiB, i);
        throw boom;
      }
      await expect(store.putStream('t/failed.bin', Readable.from(failing()))).rejects.toBe(boom);
      expect(await store.stat('t/failed.bin')).toBeNull();
    });

    it('a missing object is OBJECT_NOT_FOUND for reads and null for stat; delete tolerates it', async () => {
      const err = await expectCode(store.getStream('t/nope'), 'OBJECT_NOT_FOUND');
      expect(err.details.key).toBe('t/nope');
      await expectCode(store.getBytes('t/nope'), 'OBJECT_NOT_FOUND');
      await expectCode(store.getRange('t/nope', 0, 10), 'OBJECT_NOT_FOUND');
      expect(await store.stat('t/nope')).toBeNull();
      await store.putBytes('t/del', Buffer.from('x'));
      await store.delete('t/del');
      expect(await store.stat('t/del')).toBeNull();
      await expect(store.delete('t/del')).resolves.toBeUndefined();
    });

    it('refuses invalid keys', async () => {
      for (const key of ['', '/abs', 'a/../b', '../b', 'a//b', './a', 'a\u0000b', 'a\nb', 'x'.repeat(1025)]) {
        await expectCode(store.putBytes(key, Buffer.from('x')), 'INVALID_KEY');
        await expectCode(store.getBytes(key), 'INVALID_KEY');
      }
    });
  });

  describe('ranged reads', () => {
    const body = randomBytes(100_000);
    beforeAll(async () => {
      await store.putBytes('r/archive.zip', body, 'application/zip');
    });

    it('reads a slice from the middle and the tail, clamped at the end', async () => {
      expect((await store.getRange('r/archive.zip', 1234, 5000)).equals(body.subarray(1234, 6234))).toBe(
        true,
      );
      expect(
        (await store.getRange('r/archive.zip', body.length - 22, 22)).equals(body.subarray(body.length - 22)),
      ).toBe(true);
      expect(
        (await store.getRange('r/archive.zip', body.length - 10, 1000)).equals(
          body.subarray(body.length - 10),
        ),
      ).toBe(true);
    });

    it('an offset past the end is INVALID_RANGE; bad arguments are INVALID_ARGUMENT', async () => {
      await expectCode(store.getRange('r/archive.zip', body.length + 5, 10), 'INVALID_RANGE');
      await expectCode(store.getRange('r/archive.zip', -1, 10), 'INVALID_ARGUMENT');
      await expectCode(store.getRange('r/archive.zip', 0, 0), 'INVALID_ARGUMENT');
    });
  });

  describe('listing and prefix deletes', () => {
    const count = 1005;
    const prefix = 'tenants/t1/datasets/d1/';
    beforeAll(async () => {
      const keys = Array.from(
        { length: count },
        (_, i) => `${prefix}shards/${String(i).padStart(5, '0')}.bin`,
      );
      for (let i = 0; i < keys.length; i += 25)
        await Promise.all(keys.slice(i, i + 25).map((k) => store.putBytes(k, Buffer.from(k))));
      for (const k of [
        'tenants/t1/datasets/d10/other.bin',
        'tenants/t2/datasets/d1/other.bin',
        `${prefix}z`,
        `${prefix}shards-x`,
        `${prefix}shards!x`,
      ])
        await store.putBytes(k, Buffer.from(k));
    });

    it('lists every key under a prefix (> 1000), in byte order, and nothing else', async () => {
      const listed: string[] = [];
      for await (const item of store.list(prefix)) {
        listed.push(item.key);
        expect(item.size).toBe(Buffer.byteLength(item.key));
        expect(item.etag).toBe(md5(Buffer.from(item.key)));
        expect(item.lastModified).toBeInstanceOf(Date);
      }
      expect(listed).toHaveLength(count + 3);
      // "!" (0x21) < "-" (0x2d) < "/" (0x2f) < "z": a directory's keys sort as "name/"
      expect(listed.slice(0, 3)).toEqual([
        `${prefix}shards!x`,
        `${prefix}shards-x`,
        `${prefix}shards/00000.bin`,
      ]);
      expect(listed.at(-1)).toBe(`${prefix}z`);
      expect([...listed].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(listed);
    });

    it('lists by a partial last segment', async () => {
      const listed: string[] = [];
      for await (const item of store.list('tenants/t1/datasets/d1')) listed.push(item.key);
      expect(listed).toHaveLength(count + 4); // d1/... and d10/other.bin
      expect(listed).toContain('tenants/t1/datasets/d10/other.bin');
    });

    it('deletePrefix removes exactly the prefix', async () => {
      expect(await store.deletePrefix(prefix)).toBe(count + 3);
      const left: string[] = [];
      for await (const item of store.list('tenants/')) left.push(item.key);
      expect(left).toEqual(['tenants/t1/datasets/d10/other.bin', 'tenants/t2/datasets/d1/other.bin']);
      expect(await store.deletePrefix(prefix)).toBe(0);
      await expectCode(store.deletePrefix(''), 'INVALID_ARGUMENT');
    });
  });

  describe('presigned GET', () => {
    it('serves the object to a plain HTTP client, with a download name', async () => {
      const body = randomBytes(300_000);
      await store.putBytes('p/m.zip', body, 'application/zip');
      const res = await fetch(await store.presignedGet('p/m.zip', 600));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
      const named = await fetch(await store.presignedGet('p/m.zip', 60, { downloadName: 'my model é.zip' }));
      expect(named.status).toBe(200);
      const disposition = named.headers.get('content-disposition') ?? '';
      expect(disposition).toContain('attachment; filename="my model _.zip"');
      expect(disposition).toContain("filename*=UTF-8''my%20model%20%C3%A9.zip");
      await named.arrayBuffer();
    });

    it('a URL for a missing object answers 404; expiries outside 1 s .. 7 days are refused', async () => {
      const res = await fetch(await store.presignedGet('p/missing', 60));
      expect(res.status).toBe(404);
      await res.arrayBuffer();
      await expectCode(store.presignedGet('p/m.zip', 0), 'INVALID_ARGUMENT');
      await expectCode(store.presignedGet('p/m.zip', 604_801), 'INVALID_ARGUMENT');
    });

    it('an expired URL is refused', async () => {
      await store.putBytes('p/old.bin', Buffer.from('old bytes'));
      const res = await fetch(await h.expiredGetUrl('p/old.bin'));
      expect(res.status).toBe(403);
      expect(Buffer.from(await res.arrayBuffer()).includes(Buffer.from('old bytes'))).toBe(false);
    });
  });

  describe(`refusals of tampered or unsigned requests${signatureNote}`, () => {
    const secret = Buffer.from('tenant two secret bytes');
    let url: URL;
    beforeAll(async () => {
      await store.putBytes('tenants/one/models/m/model.zip', Buffer.from('tenant one bytes'));
      await store.putBytes('tenants/two/models/m/model.zip', secret);
      url = new URL(await store.presignedGet('tenants/one/models/m/model.zip', 600));
    });
    const variant = (change: (u: URL) => void): string => {
      const u = new URL(url);
      change(u);
      return u.toString();
    };
    const signatureParam = () =>
      [...url.searchParams.keys()].find((k) => /signature/i.test(k)) ?? 'signature';
    const expiryParam = () => [...url.searchParams.keys()].find((k) => /expires/i.test(k)) ?? 'expires';

    withSignatures('the untampered URL works (the control)', async () => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('tenant one bytes');
    });

    withSignatures('unsigned: no signature, or no query at all', async () => {
      await expectRefused(await fetch(variant((u) => u.searchParams.delete(signatureParam()))), secret);
      await expectRefused(await fetch(variant((u) => (u.search = ''))), secret);
      await expectRefused(
        await fetch(
          variant((u) => {
            u.search = '';
            u.pathname = u.pathname.replace('/one/', '/two/');
          }),
        ),
        secret,
      );
    });

    withSignatures("altered path: the same signature on another tenant's key", async () => {
      await expectRefused(
        await fetch(variant((u) => (u.pathname = u.pathname.replace('/one/', '/two/')))),
        secret,
      );
      await expectRefused(
        await fetch(
          variant(
            (u) =>
              (u.pathname = u.pathname.replace(
                '/one/models/m/model.zip',
                '/one/models/m/../../../two/models/m/model.zip',
              )),
          ),
        ),
        secret,
      );
    });

    withSignatures('altered expiry, zeroed or truncated signature', async () => {
      await expectRefused(
        await fetch(
          variant((u) =>
            u.searchParams.set(expiryParam(), String(Number(u.searchParams.get(expiryParam())) + 86_400)),
          ),
        ),
        secret,
      );
      const sig = url.searchParams.get(signatureParam()) ?? '';
      await expectRefused(
        await fetch(variant((u) => u.searchParams.set(signatureParam(), '0'.repeat(sig.length)))),
        secret,
      );
      await expectRefused(
        await fetch(variant((u) => u.searchParams.set(signatureParam(), 'A'.repeat(sig.length)))),
        secret,
      );
      await expectRefused(
        await fetch(variant((u) => u.searchParams.set(signatureParam(), sig.slice(0, -2)))),
        secret,
      );
    });

    withSignatures('wrong method: PUT or DELETE with a GET URL', async () => {
      await expectRefused(await fetch(url, { method: 'PUT', body: 'overwrite' }));
      expect((await store.getBytes('tenants/one/models/m/model.zip')).toString()).toBe('tenant one bytes');
      const del = await fetch(url, { method: 'DELETE' });
      expect([403, 404, 405]).toContain(del.status);
      await del.arrayBuffer();
      expect(await store.stat('tenants/one/models/m/model.zip')).not.toBeNull();
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).toBe(403);
    });

    withSignatures('listing: a prefix path, a listing query, the bare route', async () => {
      const base = `${url.protocol}//${url.host}`;
      const root = url.pathname.slice(0, url.pathname.indexOf('tenants/'));
      for (const path of [
        `${root}`,
        `${root}tenants/`,
        `${root}tenants/two/`,
        `${root}?list-type=2`,
        `${root}tenants/?list-type=2&prefix=tenants/`,
      ])
        await expectRefused(await fetch(`${base}${path}`), secret);
      await expectRefused(await fetch(variant((u) => u.searchParams.set('list-type', '2'))), secret);
      await expectRefused(
        await fetch(variant((u) => (u.pathname = u.pathname.replace('model.zip', '')))),
        secret,
      );
    });
  });

  describe('multipart uploads through presigned part URLs', () => {
    it('uploads parts out of order, lists them, and completes into one object', async () => {
      const key = 'u/upload.zip';
      const part1 = randomBytes(5 * MiB);
      const part2 = randomBytes(1234);
      const uploadId = await store.createMultipartUpload(key, 'application/zip');
      const url2 = await store.presignedPartUrl(key, uploadId, 2, 900, { maxBytes: 8 * MiB });
      const url1 = await store.presignedPartUrl(key, uploadId, 1, 900, { maxBytes: 8 * MiB });
      const etag2 = await putPart(url2, part2);
      const etag1 = await putPart(url1, part1);
      expect(etag1.replace(/"/g, '')).toBe(md5(part1));
      const parts = await store.listParts(key, uploadId);
      expect(parts.map((p) => [p.partNumber, p.size, p.etag])).toEqual([
        [1, part1.length, md5(part1)],
        [2, part2.length, md5(part2)],
      ]);
      expect(await store.stat(key)).toBeNull(); // nothing visible before completion
      const done = await store.completeMultipartUpload(key, uploadId, [
        { partNumber: 2, etag: etag2 },
        { partNumber: 1, etag: etag1 },
      ]);
      expect(done.etag).toMatch(/\S/);
      expect(await store.stat(key)).toMatchObject({
        size: part1.length + part2.length,
        contentType: 'application/zip',
      });
      expect((await store.getBytes(key)).equals(Buffer.concat([part1, part2]))).toBe(true);
      await expectCode(store.listParts(key, uploadId), 'UPLOAD_NOT_FOUND');
    });

    withPartChecks(
      'a wrong ETag, a missing part or a listed-twice part is INVALID_PART, and the upload stays usable',
      async () => {
        const key = 'u/checked.bin';
        const uploadId = await store.createMultipartUpload(key);
        const etag1 = await putPart(await store.presignedPartUrl(key, uploadId, 1, 60), Buffer.from('one'));
        await expectCode(
          store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: '"nope"' }]),
          'INVALID_PART',
        );
        await expectCode(
          store.completeMultipartUpload(key, uploadId, [
            { partNumber: 1, etag: etag1 },
            { partNumber: 2, etag: etag1 },
          ]),
          'INVALID_PART',
        );
        await expectCode(
          store.completeMultipartUpload(key, uploadId, [
            { partNumber: 1, etag: etag1 },
            { partNumber: 1, etag: etag1 },
          ]),
          'INVALID_PART',
        );
        expect(await store.stat(key)).toBeNull();
        await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: etag1 }]);
        expect((await store.getBytes(key)).toString()).toBe('one');
      },
    );

    withPartChecks(
      'completing an upload whose part was never sent is INVALID_PART, not a crash',
      async () => {
        const key = 'u/never-sent.bin';
        const uploadId = await store.createMultipartUpload(key);
        await expectCode(
          store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: '"nope"' }]),
          'INVALID_PART',
        );
        await expect(store.ping()).resolves.toBeUndefined();
        await store.abortMultipartUpload(key, uploadId);
      },
    );

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

    it('an upload id is bound to its key; part numbers and the part list are validated', async () => {
      const uploadId = await store.createMultipartUpload('u/one', 'text/plain');
      await expectCode(store.listParts('u/other', uploadId), 'UPLOAD_NOT_FOUND');
      await store.abortMultipartUpload('u/one', uploadId);
      await expectCode(store.presignedPartUrl('u/x', 'id', 0, 60), 'INVALID_ARGUMENT');
      await expectCode(store.presignedPartUrl('u/x', 'id', 10_001, 60), 'INVALID_ARGUMENT');
      await expectCode(store.completeMultipartUpload('u/x', 'id', []), 'INVALID_ARGUMENT');
    });

    withSignatures('a part URL is bound to its upload, part and key', async () => {
      const key = 'tenants/one/datasets/d/versions/v/source/a.zip';
      const uploadId = await store.createMultipartUpload(key);
      const url = new URL(await store.presignedPartUrl(key, uploadId, 1, 60, { maxBytes: MiB }));
      const tampered = (change: (u: URL) => void) => {
        const u = new URL(url);
        change(u);
        return u.toString();
      };
      for (const target of [
        tampered((u) => u.searchParams.set('partNumber', '2')),
        tampered((u) => (u.pathname = u.pathname.replace('/one/', '/two/'))),
        tampered((u) => u.searchParams.set('maxBytes', String(10 * MiB))),
        tampered((u) => u.searchParams.delete('uploadId')),
      ]) {
        const res = await fetch(target, { method: 'PUT', body: Buffer.from('x') });
        await expectRefused(res);
      }
      const get = await fetch(url);
      await expectRefused(get);
      expect(await store.listParts(key, uploadId)).toEqual([]);
      await store.abortMultipartUpload(key, uploadId);
    });
  });

  itIf(driver.atomicWrites, 's3rver writes objects in place, readers see torn objects; MinIO and S3 do not')(
    'concurrent writers of one key: every reader sees one whole version',
    async () => {
      const versions = Array.from({ length: 6 }, (_, i) => Buffer.alloc(2 * MiB, i + 1));
      const hashes = new Set(versions.map(md5));
      await store.putBytes('k/contended', versions[0]);
      const reads: Promise<Buffer>[] = [];
      await Promise.all(
        versions.map(async (v) => {
          reads.push(store.getBytes('k/contended'));
          await store.putBytes('k/contended', v);
          reads.push(store.getBytes('k/contended'));
        }),
      );
      for (const r of await Promise.all(reads)) expect(hashes.has(md5(r))).toBe(true);
      const stat = await store.stat('k/contended');
      expect(hashes.has(stat?.etag ?? '')).toBe(true);
    },
  );

  it('isStorageError narrows by code', async () => {
    const err = await expectCode(store.getBytes('t/absent'), 'OBJECT_NOT_FOUND');
    expect(isStorageError(err, 'OBJECT_NOT_FOUND')).toBe(true);
    expect(isStorageError(err, 'INVALID_KEY')).toBe(false);
  });

  if (driver.name.startsWith('filesystem')) {
    it('streams a 300 MB object in and out with flat memory', async () => {
      const fsStore = store as FsObjectStore;
      const total = 300 * MiB;
      const block = randomBytes(MiB);
      const hash = createHash('sha256');
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
      async function* generated(): AsyncGenerator<Buffer> {
        for (let n = 0; n * MiB < total; n++) {
          const chunk = Buffer.from(block);
          chunk.writeUInt32BE(n, 0);
          hash.update(chunk);
          if (n % 16 === 0) sample();
          yield chunk;
        }
      }
      const put = await fsStore.putStream('big/300mb.bin', generated(), { size: total });
      expect(put.size).toBe(total);
      const expected = hash.digest('hex');
      const read = createHash('sha256');
      let n = 0;
      for await (const chunk of await fsStore.getStream('big/300mb.bin')) {
        read.update(chunk as Buffer);
        if (n++ % 64 === 0) sample();
      }
      expect(read.digest('hex')).toBe(expected);
      // The object is 300 MB; the process grew by a few chunks' worth, not by the object.
      expect(peak - baseline).toBeLessThan(80 * MiB);
      await fsStore.delete('big/300mb.bin');
    });
  }
});
