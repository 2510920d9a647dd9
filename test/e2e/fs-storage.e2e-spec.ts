/**
 * The default of `npm start`: no S3 server, the filesystem object store shared by the API, worker and
 * serving processes, its presigned URLs served by the API. A dataset goes up through presigned part
 * URLs, is ingested into shards above the size that used to need S3 multipart, and comes back through
 * presigned downloads; tampered URLs and a completion naming a part never sent are refused without
 * harming the platform.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { mnistZip } from '../support/archives';
import { putUploadParts, type UploadPartUrl } from '../support/datasets';

jest.setTimeout(600_000);

describe('the platform on the filesystem object store (real API, worker, serving, Postgres, Redis)', () => {
  let p: Platform;
  let key: string;

  beforeAll(async () => {
    p = await startPlatform({}, { storage: 'fs' });
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Files' },
    });
    key = t.body.apiKey.key;
  });
  afterAll(async () => {
    if (p && p.api.child.exitCode !== null) console.error(p.api.output());
    await p?.stop();
  });

  async function newDataset(): Promise<string> {
    const r = await call(p.apiUrl, 'POST', '/v1/datasets', {
      token: key,
      body: { name: `fs-${Date.now()}`, task: 'image-classification' },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  }

  it('a completion naming a part that was never uploaded is a 400 problem and the platform stays up', async () => {
    const id = await newDataset();
    const created = await call(p.apiUrl, 'POST', `/v1/datasets/${id}/uploads`, {
      token: key,
      body: { fileName: 'x.zip', sizeBytes: 1000 },
    });
    expect(created.status).toBe(201);
    const done = await call(p.apiUrl, 'POST', `/v1/uploads/${created.body.uploadId}/complete`, {
      token: key,
      body: { parts: [{ partNumber: 1, etag: '"nope"' }] },
    });
    expect(done.status).toBe(400);
    expect(done.body.code).toBe('BAD_REQUEST');
    expect((await fetch(`${p.apiUrl}/v1/health/ready`)).status).toBe(200);
    expect(p.api.child.exitCode).toBeNull();
  });

  it('uploads through presigned part URLs, ingests at 224 px into shards over 64 MB, and downloads through presigned URLs', async () => {
    const id = await newDataset();
    const zip = await mnistZip(60); // 600 digits: the training shard at 224x224x3 is ~72 MB
    const created = await call(p.apiUrl, 'POST', `/v1/datasets/${id}/uploads`, {
      token: key,
      body: {
        fileName: 'digits.zip',
        sizeBytes: zip.length,
        contentType: 'application/zip',
        options: { imageSize: 224, channels: 3 },
      },
    });
    expect(created.status).toBe(201);
    const { uploadId, partSize, parts } = created.body as {
      uploadId: string;
      partSize: number;
      parts: UploadPartUrl[];
    };
    expect(parts[0].url.startsWith(`${p.apiUrl}/v1/objects/`)).toBe(true);

    // A tampered part URL is refused and stores nothing.
    const tampered = new URL(parts[0].url);
    tampered.searchParams.set('partNumber', '2');
    expect((await fetch(tampered, { method: 'PUT', body: zip })).status).toBe(403);

    const etags = await putUploadParts([...parts].reverse(), zip, partSize);
    const status = await call(p.apiUrl, 'GET', `/v1/uploads/${uploadId}`, { token: key });
    expect(status.body.received.map((r: { partNumber: number }) => r.partNumber)).toEqual(
      parts.map((x) => x.partNumber),
    );
    const done = await call(p.apiUrl, 'POST', `/v1/uploads/${uploadId}/complete`, {
      token: key,
      body: { parts: etags },
    });
    expect(done.status).toBe(202);
    const versionId = done.body.version.id as string;
    const v = await waitFor(
      'ingestion to settle',
      async () => {
        const r = await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${versionId}`, { token: key });
        return r.body.status === 'READY' || r.body.status === 'FAILED' ? r.body : undefined;
      },
      480_000,
      500,
    );
    expect(v.status).toBe('READY');
    expect(v.stats.samples).toBe(600);

    // The shards are in the store's directory, one of them past the old 64 MB multipart threshold.
    let largest = 0;
    for await (const o of p.s3.store.list(`tenants/`))
      if (o.key.includes('/shards/')) largest = Math.max(largest, o.size);
    expect(largest).toBeGreaterThan(64 * 1024 * 1024);
    if (p.s3.driver === 'fs') expect(await readdir(join(p.s3.directory, 'tmp'))).toEqual([]);

    // Presigned downloads, served by the API: the preview's thumbnails.
    const preview = await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${versionId}/preview`, {
      token: key,
    });
    expect(preview.status).toBe(200);
    const url = preview.body.classes[3].samples[0] as string;
    expect(url.startsWith(`${p.apiUrl}/v1/objects/tenants/`)).toBe(true);
    const thumb = await fetch(url);
    expect(thumb.status).toBe(200);
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(0);
    expect(Number(thumb.headers.get('content-length'))).toBe(bytes.length);

    // The same URL, tampered: another key, no signature, a listing. Never data.
    const other = new URL(url);
    other.pathname = other.pathname.replace(/\/preview\/.*$/, '/source/digits.zip');
    const unsigned = new URL(url);
    unsigned.search = '';
    const listing = new URL(url);
    listing.pathname = '/v1/objects/tenants/';
    for (const u of [other, unsigned, listing]) {
      const res = await fetch(u);
      expect([403, 404]).toContain(res.status);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      await res.text();
    }
  });
});
