import { classifyImages, loadExportedModel } from '@modelsmith/ml';
import { parse } from 'csv-parse/sync';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { jobEnded } from '../support/jobs';
import { mnistPng, zipOf } from '../support/archives';
import { storeModel, tinyDigitModel, type StoredModel } from '../support/models';

jest.setTimeout(300_000);

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

interface Line {
  path: string;
  label?: string;
  score?: number;
  top?: { label: string; score: number }[];
  error?: string;
}

async function submit(
  p: Platform,
  token: string,
  modelId: string,
  archive: Buffer,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([archive], { type: 'application/zip' }), 'photos.zip');
  const res = await fetch(`${p.apiUrl}/v1/models/${modelId}/batch-predictions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  return { status: res.status, body: (await res.json()) as any };
}

const finished = (p: Platform, token: string, jobId: string) =>
  jobEnded(p, token, jobId, { what: 'batch job to finish', timeoutMs: 180_000 });

const SCRATCH_RETENTION_S = 36;

describe('batch prediction jobs end to end (API, worker, Postgres, Redis, S3)', () => {
  let p: Platform;
  let tenantId: string;
  let key: string;
  let model: StoredModel;
  const images: { path: string; data: Buffer }[] = [];

  beforeAll(async () => {
    // Scratch of finished jobs is swept after 36 s here (24 h by default), checked every second.
    p = await startPlatform({
      JOBS_SCRATCH_RETENTION_HOURS: String(SCRATCH_RETENTION_S / 3600),
      JOBS_SCRATCH_SWEEP_INTERVAL_SECONDS: '1',
    });
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Batcher' },
    });
    tenantId = t.body.tenant.id;
    key = t.body.apiKey.key;
    model = await storeModel(p, tenantId, tinyDigitModel(11), DIGITS, 'digits');
    for (let i = 0; i < 20; i++)
      images.push({
        path: `photos/${i % 3 === 0 ? 'a' : 'b'}/${i}.png`,
        data: await mnistPng(i % 10, 200 + i),
      });
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('classifies every image of an archive into a JSONL file, reporting undecodable ones, with progress', async () => {
    const archive = await zipOf([
      ...images,
      { path: 'photos/broken.png', data: Buffer.from('this is not a png') },
      { path: '__MACOSX/photos/._0.png', data: Buffer.from('junk') },
      { path: 'photos/.hidden.png', data: Buffer.from('hidden') },
    ]);
    const created = await submit(p, key, model.id, archive, { topK: '2' });
    expect(created.status).toBe(202);
    expect(created.body.kind).toBe('BATCH_PREDICT');
    const early = await call(p.apiUrl, 'GET', `/v1/jobs/${created.body.id as string}/output`, { token: key });
    if (early.status !== 200) expect(early.status).toBe(409);

    const job = await finished(p, key, created.body.id as string);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.result).toMatchObject({
      format: 'jsonl',
      images: 21,
      predicted: 20,
      failed: 1,
      modelId: model.id,
    });
    // The uploaded archive is deleted once the job succeeded.
    const inputKey = (created.body.options as { inputKey: string }).inputKey;
    await waitFor(
      'input archive deleted',
      async () => (await p.s3.store.stat(inputKey)) === null,
      30_000,
      250,
    );
    const output = await call(p.apiUrl, 'GET', `/v1/jobs/${job.id as string}/output`, { token: key });
    expect(output.status).toBe(200);
    expect(output.body.fileName).toBe('predictions.jsonl');
    const text = await (await fetch(output.body.url as string)).text();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.path).sort()).toEqual(
      [...images.map((i) => i.path), 'photos/broken.png'].sort(),
    );
    expect(lines.find((l) => l.path === 'photos/broken.png')!.error).toMatch(/decode|format|image/i);

    // The same bytes classified in-process with the same exported model give the same answers.
    const reader = { get: async (k: string) => new Uint8Array(await p.s3.store.getBytes(k)) };
    const exported = await loadExportedModel(reader, model.prefix);
    const expected = await classifyImages(
      exported,
      images.map((i) => i.data),
      { topK: 2 },
    );
    exported.model.dispose();
    images.forEach((img, i) => {
      const line = lines.find((l) => l.path === img.path)!;
      expect(line.label).toBe(expected[i].label);
      expect(line.score).toBeCloseTo(expected[i].score, 4);
      expect(line.top!.map((t) => t.label)).toEqual(expected[i].top.map((t) => t.label));
    });

    const events = await call(p.apiUrl, 'GET', `/v1/jobs/${job.id as string}/events`, { token: key });
    const predicting = (events.body as { stage: string; percent: number | null }[]).filter(
      (e) => e.stage === 'predicting' && e.percent !== null,
    );
    expect(predicting.length).toBeGreaterThanOrEqual(2);
  });

  it('writes CSV on request', async () => {
    const created = await submit(p, key, model.id, await zipOf(images.slice(0, 5)), { format: 'csv' });
    const job = await finished(p, key, created.body.id as string);
    expect(job.status).toBe('SUCCEEDED');
    const output = await call(p.apiUrl, 'GET', `/v1/jobs/${job.id as string}/output`, { token: key });
    const rows = parse<Record<string, string>>(await (await fetch(output.body.url as string)).text(), {
      columns: true,
    });
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => DIGITS.includes(r.label) && Number(r.score) > 0 && r.error === '')).toBe(true);
  });

  it('stops between chunks when cancelled, leaving no output to download', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      path: `many/${i}.png`,
      data: images[i % images.length].data,
    }));
    // A PREDICT-only key starts the job and may cancel it (cancelling needs the scope that starts it).
    const predictKey = (
      await call(p.apiUrl, 'POST', '/v1/api-keys', {
        token: key,
        body: { name: 'predictor', scopes: ['PREDICT'] },
      })
    ).body.key as string;
    const readKey = (
      await call(p.apiUrl, 'POST', '/v1/api-keys', { token: key, body: { name: 'reader', scopes: ['READ'] } })
    ).body.key as string;
    const created = await submit(p, predictKey, model.id, await zipOf(many));
    expect(created.status).toBe(202);
    const jobId = created.body.id as string;
    await waitFor(
      'the job to predict its first chunk',
      async () => {
        const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${jobId}/events`, { token: key })).body as {
          stage: string;
          data?: { images?: number };
        }[];
        return events.some((e) => e.stage === 'predicting' && (e.data?.images ?? 0) > 0);
      },
      120_000,
      50,
    );
    expect((await call(p.apiUrl, 'POST', `/v1/jobs/${jobId}/cancel`, { token: readKey })).status).toBe(403);
    expect((await call(p.apiUrl, 'POST', `/v1/jobs/${jobId}/cancel`, { token: predictKey })).status).toBe(
      202,
    );
    const job = await finished(p, key, jobId);
    expect(job.status).toBe('CANCELLED');
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${jobId}/output`, { token: key })).status).toBe(409);
    // The input archive is kept for the retention period after the job ended, then swept.
    const inputKey = (created.body.options as { inputKey: string }).inputKey;
    expect(await p.s3.store.stat(inputKey)).not.toBeNull();
    await waitFor(
      'the input archive of the cancelled job swept',
      async () => (await p.s3.store.stat(inputKey)) === null,
      (SCRATCH_RETENTION_S + 60) * 1000,
      500,
    );
  }, 300_000);

  it('refuses bad requests up front and fails jobs whose model or archive is invalid, with clear reasons', async () => {
    const readKey = (
      await call(p.apiUrl, 'POST', '/v1/api-keys', { token: key, body: { name: 'reader', scopes: ['READ'] } })
    ).body.key as string;
    const archive = await zipOf(images.slice(0, 2));
    expect((await submit(p, readKey, model.id, archive)).status).toBe(403);
    expect((await submit(p, key, 'no-such-model', archive)).status).toBe(404);
    const badFormat = await submit(p, key, model.id, archive, { format: 'xml' });
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.errors[0].field).toBe('format');
    const tabular = await p.system.model.create({
      data: {
        tenantId,
        name: 'table',
        task: 'TABULAR_CLASSIFICATION',
        artifactPrefix: `tenants/${tenantId}/models/t/`,
      },
    });
    const notImages = await submit(p, key, tabular.id, archive);
    expect(notImages.status).toBe(422);
    expect(notImages.body.reason).toBe('MODEL_NOT_SERVABLE');

    const notArchive = await submit(p, key, model.id, Buffer.from('plain text, not an archive'));
    const failedInput = await finished(p, key, notArchive.body.id as string);
    expect(failedInput.status).toBe('FAILED');
    expect(failedInput.failureCode).toBe('INPUT_INVALID');
    // Its output route says why there is nothing to download.
    const noOutput = await call(p.apiUrl, 'GET', `/v1/jobs/${notArchive.body.id as string}/output`, {
      token: key,
    });
    expect(noOutput.status).toBe(409);
    expect(noOutput.body).toMatchObject({
      code: 'CONFLICT',
      jobStatus: 'FAILED',
      failureCode: 'INPUT_INVALID',
      failureReason: failedInput.failureReason,
    });
    expect(noOutput.body.detail).toContain('INPUT_INVALID');

    const tampered = await storeModel(p, tenantId, tinyDigitModel(12), DIGITS, 'tampered');
    const manifestKey = `${tampered.prefix}manifest.json`;
    const manifest = JSON.parse((await p.s3.store.getBytes(manifestKey)).toString()) as {
      files: { path: string }[];
    };
    manifest.files.find((f) => f.path !== 'model.json')!.path = '../../other-tenant/weights.bin';
    await p.s3.store.putBytes(manifestKey, Buffer.from(JSON.stringify(manifest)), 'application/json');
    const refused = await finished(p, key, (await submit(p, key, tampered.id, archive)).body.id as string);
    expect(refused.status).toBe('FAILED');
    expect(refused.failureCode).toBe('MODEL_INVALID');
    expect(refused.failureReason).toMatch(/refused/);
  });

  it("counts against the key's prediction rate, shared with online predict: 429 + Retry-After over it, no job created", async () => {
    const limited = await call(p.apiUrl, 'POST', '/v1/api-keys', {
      token: key,
      body: { name: 'limited', scopes: ['PREDICT'], rateLimitPerMinute: 3 },
    });
    expect(limited.status).toBe(201);
    const limitedKey = limited.body.key as string;
    const archive = await zipOf(images.slice(0, 2));
    const jobsBefore = (await call(p.apiUrl, 'GET', '/v1/jobs?limit=100', { token: key })).body.items as {
      id: string;
    }[];

    // One online prediction on the serving app and two batch requests use up the key's 3 per minute.
    const deployment = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: model.id, name: 'rate' },
    });
    expect(deployment.status).toBe(201);
    const predictPath = `/v1/deployments/${deployment.body.id as string}/predict`;
    const online = await call(p.servingUrl, 'POST', predictPath, {
      token: limitedKey,
      body: { images: [images[0].data.toString('base64')] },
    });
    expect(online.status).toBe(200);
    const statuses: number[] = [];
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const form = new FormData();
      form.append('file', new Blob([archive], { type: 'application/zip' }), 'photos.zip');
      const res = await fetch(`${p.apiUrl}/v1/models/${model.id}/batch-predictions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${limitedKey}` },
        body: form,
      });
      statuses.push(res.status);
      remaining.push(res.headers.get('x-ratelimit-remaining'));
      const body = (await res.json()) as { code?: string };
      if (res.status === 429) {
        expect(body.code).toBe('RATE_LIMITED');
        const retryAfter = Number(res.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
    }
    expect(statuses).toEqual([202, 202, 429]);
    expect(remaining).toEqual(['1', '0', '0']);
    // The budget is one: online predict is now refused too.
    expect(
      (
        await call(p.servingUrl, 'POST', predictPath, {
          token: limitedKey,
          body: { images: [images[0].data.toString('base64')] },
        })
      ).status,
    ).toBe(429);
    // The refused request created no job; the two accepted did.
    const jobsAfter = (await call(p.apiUrl, 'GET', '/v1/jobs?limit=100', { token: key })).body.items as {
      id: string;
    }[];
    expect(jobsAfter.length - jobsBefore.length).toBe(2);
    // Another key of the tenant is not limited by this one.
    expect((await submit(p, key, model.id, archive)).status).toBe(202);
  });
});
