import { randomBytes } from 'node:crypto';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { DIGIT_CLASSES, entriesOf, mnistZip, zipOf } from '../support/archives';
import { putUploadParts, type UploadPartUrl } from '../support/datasets';

jest.setTimeout(240_000);

async function upload(
  p: Platform,
  token: string,
  datasetId: string,
  file: Buffer,
  name: string,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file], { type: 'application/zip' }), name);
  const res = await fetch(`${p.apiUrl}/v1/datasets/${datasetId}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  return { status: res.status, body: (await res.json()) as any };
}

async function settled(p: Platform, token: string, datasetId: string, versionId: string) {
  return waitFor(
    'ingestion to settle',
    async () => {
      const r = await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}/versions/${versionId}`, { token });
      return r.body.status === 'READY' || r.body.status === 'FAILED' ? r.body : undefined;
    },
    180_000,
    300,
  );
}

describe('datasets over REST (real API, worker, Postgres, Redis, S3)', () => {
  let p: Platform;
  let key: string;
  let keyB: string;
  let tenantId: string;

  beforeAll(async () => {
    p = await startPlatform();
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Data A' },
    });
    const b = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Data B' },
    });
    key = a.body.apiKey.key;
    keyB = b.body.apiKey.key;
    tenantId = a.body.tenant.id;
  });

  afterAll(async () => {
    if (p?.api.child.exitCode !== null) console.error(p?.api.output());
    await p?.stop();
  });

  async function newDataset(name = `ds-${randomBytes(3).toString('hex')}`): Promise<string> {
    const r = await call(p.apiUrl, 'POST', '/v1/datasets', {
      token: key,
      body: { name, task: 'image-classification' },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  }

  it('ingests an MNIST digits archive: report, splits, preview, versions, isolation, deletion', async () => {
    const id = await newDataset('digits');
    const zip = await mnistZip(12);
    const up = await upload(p, key, id, zip, 'digits.zip', { imageSize: '28', channels: '1' });
    expect(up.status).toBe(202);
    expect(up.body.version).toMatchObject({ version: 1, status: 'QUEUED' });

    const v = await settled(p, key, id, up.body.version.id);
    expect(v.status).toBe('READY');
    expect(v.stats.samples).toBe(120);
    expect(v.stats.classes.map((c: { name: string }) => c.name)).toEqual(DIGIT_CLASSES);
    const job = await call(p.apiUrl, 'GET', `/v1/jobs/${up.body.jobId}`, { token: key });
    expect(job.body).toMatchObject({ kind: 'INGEST_DATASET', status: 'SUCCEEDED' });

    const report = await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${v.id}/report`, { token: key });
    expect(report.status).toBe(200);
    const r = report.body.report;
    expect(r.totals).toMatchObject({ samples: 120, skipped: 0 });
    expect(r.splits.train + r.splits.validation + r.splits.test).toBe(120);
    expect(r.splits.test).toBeGreaterThanOrEqual(10);
    for (const c of r.classes) expect(c.splits.train).toBeGreaterThan(0);

    const preview = await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${v.id}/preview`, {
      token: key,
    });
    expect(preview.status).toBe(200);
    expect(preview.body.classes).toHaveLength(10);
    const thumb = await fetch(preview.body.classes[3].samples[0]);
    expect(thumb.status).toBe(200);
    expect(
      Buffer.from(await thumb.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    // Adding files makes a new version: the parent's 120 samples plus 6 new ones (and one the parent
    // already has, which is not added twice); the first version is unchanged.
    const more = await mnistZip(3, 2, 100);
    const again = await mnistZip(1, 1, 0);
    const up2 = await upload(
      p,
      key,
      id,
      await zipOf([...(await entriesOf(more)), ...(await entriesOf(again))]),
      'more.zip',
      {
        parentVersionId: v.id,
        imageSize: '28',
        channels: '1',
      },
    );
    expect(up2.body.version.version).toBe(2);
    const v2 = await settled(p, key, id, up2.body.version.id);
    expect(v2.status).toBe('READY');
    expect(v2.parentVersionId).toBe(v.id);
    expect(v2.stats.samples).toBe(126);
    const r2 = (await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${v2.id}/report`, { token: key }))
      .body.report;
    expect(r2.merge).toMatchObject({
      parentVersionId: v.id,
      parentSamples: 120,
      added: 6,
      duplicatesOfParent: 1,
    });
    expect(r2.classes.find((c: { name: string }) => c.name === '0').count).toBe(15);
    expect(
      (await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${v.id}`, { token: key })).body.stats.samples,
    ).toBe(120);

    // Tenant isolation.
    expect((await call(p.apiUrl, 'GET', `/v1/datasets/${id}`, { token: keyB })).status).toBe(404);
    expect(
      (await call(p.apiUrl, 'GET', `/v1/datasets/${id}/versions/${v.id}/report`, { token: keyB })).status,
    ).toBe(404);
    expect((await upload(p, keyB, id, zip, 'x.zip')).status).toBe(404);

    // Deleting removes rows and every stored object of the dataset.
    const prefix = `tenants/${tenantId}/datasets/${id}/`;
    let before = 0;
    for await (const _ of p.s3.store.list(prefix)) before++;
    expect(before).toBeGreaterThan(10);
    expect((await call(p.apiUrl, 'DELETE', `/v1/datasets/${id}`, { token: key })).status).toBe(204);
    expect((await call(p.apiUrl, 'GET', `/v1/datasets/${id}`, { token: key })).status).toBe(404);
    let after = 0;
    for await (const _ of p.s3.store.list(prefix)) after++;
    expect(after).toBe(0);
  });

  it('marks a hostile archive FAILED with a specific reason and stays up', async () => {
    const id = await newDataset();
    const png = await zipOf([{ path: '../evil/0.png', data: Buffer.from('x'), unsafe: true }]);
    const up = await upload(p, key, id, png, 'evil.zip');
    expect(up.status).toBe(202);
    const v = await settled(p, key, id, up.body.version.id);
    expect(v.status).toBe('FAILED');
    expect(v.failureCode).toBeTruthy();
    expect(v.failureReason).toMatch(/\.\.\/evil|path|outside|unsafe/i);
    const job = await call(p.apiUrl, 'GET', `/v1/jobs/${up.body.jobId}`, { token: key });
    expect(job.body.status).toBe('FAILED');
    expect(job.body.failureCode).toMatch(/^DATASET_/);
    expect((await call(p.apiUrl, 'GET', '/v1/health/ready')).status).toBe(200);
  });

  it('refuses wrong content types, bad options and oversize uploads without changing anything', async () => {
    const id = await newDataset();
    const json = await call(p.apiUrl, 'POST', `/v1/datasets/${id}/versions`, {
      token: key,
      body: { file: 'nope' },
    });
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const badOpt = await upload(p, key, id, await mnistZip(2, 2), 'a.zip', { imageSize: '3', colour: 'red' });
    expect(badOpt.status).toBe(400);
    expect(badOpt.body.code).toBe('VALIDATION_FAILED');
    expect(badOpt.body.detail).toMatch(/imageSize/);

    await p.system.tenant.update({ where: { id: tenantId }, data: { maxUploadBytes: 2_000n } });
    try {
      const big = await upload(p, key, id, randomBytes(50_000), 'big.zip');
      expect(big.status).toBe(413);
      expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      await p.system.tenant.update({ where: { id: tenantId }, data: { maxUploadBytes: 10n * 1024n ** 3n } });
    }
    const ds = await call(p.apiUrl, 'GET', `/v1/datasets/${id}`, { token: key });
    expect(ds.body.versions).toEqual([]);
  });

  it('accepts a presigned multipart upload and ingests it', async () => {
    const id = await newDataset();
    const zip = await mnistZip(4, 3);
    const created = await call(p.apiUrl, 'POST', `/v1/datasets/${id}/uploads`, {
      token: key,
      body: {
        fileName: 'digits.zip',
        sizeBytes: zip.length,
        contentType: 'application/zip',
        options: { imageSize: 28, channels: 1 },
      },
    });
    expect(created.status).toBe(201);
    const { uploadId, partSize, parts } = created.body;
    const etags = await putUploadParts(parts as UploadPartUrl[], zip, partSize);
    const status = await call(p.apiUrl, 'GET', `/v1/uploads/${uploadId}`, { token: key });
    expect(status.body.received.length).toBe(parts.length);
    const done = await call(p.apiUrl, 'POST', `/v1/uploads/${uploadId}/complete`, {
      token: key,
      body: { parts: etags },
    });
    expect(done.status).toBe(202);
    const v = await settled(p, key, id, done.body.version.id);
    expect(v.status).toBe('READY');
    expect(v.stats.samples).toBe(12);
    expect(
      (
        await call(p.apiUrl, 'POST', `/v1/uploads/${uploadId}/complete`, {
          token: key,
          body: { parts: etags },
        })
      ).status,
    ).toBe(409);
  });
});
