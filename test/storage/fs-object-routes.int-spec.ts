/**
 * The API's object routes beyond the shared conformance cases: part size limits, a client that goes
 * away mid-upload, bodies of any content type, and the routes' answer under the S3 driver.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsObjectStore } from '@modelsmith/storage';
import { startTestFsStore, type TestFsStore } from '../support/fs-store';
import { startObjectsApi } from '../support/objects-api';
import { startTestS3 } from '../support/s3';
import { waitFor } from '../support/platform';

describe('API object routes of the filesystem store', () => {
  let fs: TestFsStore;
  let api: Awaited<ReturnType<typeof startObjectsApi<FsObjectStore>>>;

  beforeAll(async () => {
    api = await startObjectsApi(async (baseUrl) => {
      fs = await startTestFsStore({ baseUrl });
      return fs.store;
    });
  });
  afterAll(async () => {
    await api.close();
    await fs.stop();
  });

  async function problem(res: Response): Promise<{ status: number; code: string }> {
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    return { status: res.status, code: (JSON.parse(await res.text()) as { code: string }).code };
  }

  it('refuses a part above its signed size limit, declared or streamed, and stores nothing', async () => {
    const key = 'tenants/t/datasets/d/versions/v/source/a.zip';
    const uploadId = await api.store.createMultipartUpload(key);
    const url = await api.store.presignedPartUrl(key, uploadId, 1, 60, { maxBytes: 1000 });
    expect(await problem(await fetch(url, { method: 'PUT', body: Buffer.alloc(1001) }))).toEqual({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(400));
        c.close();
      },
    });
    const res = await fetch(url, { method: 'PUT', body: chunked, duplex: 'half' });
    expect(await problem(res)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await api.store.listParts(key, uploadId)).toEqual([]);
    const ok = await fetch(url, { method: 'PUT', body: Buffer.alloc(1000, 7) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe(`"${createHash('md5').update(Buffer.alloc(1000, 7)).digest('hex')}"`);
  });

  it('takes a part body of any content type as bytes (no JSON parsing)', async () => {
    const key = 'tenants/t/x.json';
    const uploadId = await api.store.createMultipartUpload(key);
    const body = '{"not": "parsed"';
    const res = await fetch(await api.store.presignedPartUrl(key, uploadId, 1, 60), {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag') ?? '';
    await api.store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]);
    expect((await api.store.getBytes(key)).toString()).toBe(body);
  });

  it('a client that goes away mid-part leaves no part and no temporary file, and the API keeps serving', async () => {
    const key = 'tenants/t/aborted.bin';
    const uploadId = await api.store.createMultipartUpload(key);
    const url = new URL(await api.store.presignedPartUrl(key, uploadId, 1, 60));
    await new Promise<void>((done) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': String(10 * 1024 * 1024) } });
      req.on('error', () => done());
      req.write(Buffer.alloc(256 * 1024));
      setTimeout(() => {
        req.destroy();
        done();
      }, 200);
    });
    await waitFor(
      'temporary file removed',
      async () => (await readdir(join(fs.directory, 'tmp'))).length === 0,
      10_000,
      50,
    );
    expect(await api.store.listParts(key, uploadId)).toEqual([]);
    await api.store.putBytes('tenants/t/alive', Buffer.from('still here'));
    const res = await fetch(await api.store.presignedGet('tenants/t/alive', 60));
    expect(await res.text()).toBe('still here');
  });

  it('a valid URL of an aborted upload is 404; of a deleted object 404', async () => {
    const key = 'tenants/t/gone.bin';
    const uploadId = await api.store.createMultipartUpload(key);
    const url = await api.store.presignedPartUrl(key, uploadId, 1, 60);
    await api.store.abortMultipartUpload(key, uploadId);
    expect(await problem(await fetch(url, { method: 'PUT', body: 'x' }))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
    await api.store.putBytes(key, Buffer.from('x'));
    const get = await api.store.presignedGet(key, 60);
    await api.store.delete(key);
    expect(await problem(await fetch(get))).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('serves downloads so that a browser never renders them as a page of the API', async () => {
    await api.store.putBytes('tenants/t/page.html', Buffer.from('<script>alert(1)</script>'), 'text/html');
    const res = await fetch(await api.store.presignedGet('tenants/t/page.html', 60));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    await res.text();
  });
});

describe('API object routes under the S3 driver', () => {
  it('answer 404 to everything (presigned URLs point at the S3 server)', async () => {
    const s3 = await startTestS3();
    const api = await startObjectsApi(async () => s3.store);
    try {
      await s3.store.putBytes('a/b', Buffer.from('x'));
      for (const method of ['GET', 'PUT']) {
        const res = await fetch(`${api.url}/v1/objects/a/b?expires=1&signature=${'A'.repeat(43)}`, {
          method,
          ...(method === 'PUT' ? { body: 'x' } : {}),
        });
        expect(res.status).toBe(404);
        await res.text();
      }
    } finally {
      await api.close();
      await s3.stop();
    }
  });
});
