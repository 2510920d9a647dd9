import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { jobSucceeded } from '../support/jobs';
import { readyDataset } from '../support/datasets';
import { entriesOf, mnistPng, zipOf } from '../support/archives';
import { storeModel, tinyDigitModel } from '../support/models';

jest.setTimeout(900_000);

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const TRAIN_PER_CLASS = 30;
const TEST_PER_CLASS = 6;

interface Prediction {
  label: string;
  score: number;
  top: { label: string; score: number }[];
}

/** POSTs images to a deployment as multipart/form-data (one file part each). */
async function predictMultipart(
  servingUrl: string,
  deploymentId: string,
  token: string,
  images: Buffer[],
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  images.forEach((img, i) => form.append('image', new Blob([img], { type: 'image/png' }), `${i}.png`));
  const res = await fetch(`${servingUrl}/v1/deployments/${deploymentId}/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  const body: any = text ? JSON.parse(text) : null;
  return { status: res.status, headers: res.headers, body };
}

async function createKey(
  p: Platform,
  adminKey: string,
  scopes: string[],
  rateLimitPerMinute?: number,
): Promise<string> {
  const r = await call(p.apiUrl, 'POST', '/v1/api-keys', {
    token: adminKey,
    body: { name: `k-${scopes.join('-')}`, scopes, ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}) },
  });
  expect(r.status).toBe(201);
  return r.body.key as string;
}

async function deploy(p: Platform, key: string, modelId: string): Promise<string> {
  const r = await call(p.apiUrl, 'POST', '/v1/deployments', {
    token: key,
    body: { modelId, name: `d-${modelId.slice(0, 6)}` },
  });
  expect(r.status).toBe(201);
  expect(r.body.status).toBe('ACTIVE');
  return r.body.id as string;
}

/** Plain @tensorflow/tfjs (cpu backend), no Modelsmith code: model.json + shards from the downloaded zip. */
async function loadDownloadedModel(
  zip: Buffer,
): Promise<{ model: tf.LayersModel; manifest: { classNames: string[]; normalization: { kind: string } } }> {
  const files = new Map((await entriesOf(zip)).map((e) => [e.path, e.data]));
  const modelJson = JSON.parse(files.get('model.json')!.toString()) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const weightData = Buffer.concat(
    modelJson.weightsManifest.flatMap((g) => g.paths.map((path) => files.get(path)!)),
  );
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs,
      weightData: weightData.buffer.slice(
        weightData.byteOffset,
        weightData.byteOffset + weightData.byteLength,
      ),
    }),
  );
  return { model, manifest: JSON.parse(files.get('manifest.json')!.toString()) };
}

describe('deployments and online prediction end to end (API, worker, serving, Postgres, Redis, S3)', () => {
  let p: Platform;
  let tenantId: string;
  let adminKey: string;
  let predictKey: string;
  let trainedModelId: string;
  let report: { accuracy: number; numSamples: number };
  const heldOut: { png: Buffer; digit: number }[] = [];

  beforeAll(async () => {
    p = await startPlatform();
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Deployer' },
    });
    tenantId = t.body.tenant.id;
    adminKey = t.body.apiKey.key;
    predictKey = await createKey(p, adminKey, ['PREDICT']);

    // Digits with an explicit split column: the test rows are exactly the images the evaluation report measured.
    const rows = ['path,label,split'];
    const entries: { path: string; data: Buffer }[] = [];
    for (let d = 0; d < DIGITS.length; d++) {
      for (let i = 0; i < TRAIN_PER_CLASS + TEST_PER_CLASS; i++) {
        const png = await mnistPng(d, i);
        const split = i < TRAIN_PER_CLASS ? 'train' : 'test';
        entries.push({ path: `img/${d}-${i}.png`, data: png });
        rows.push(`img/${d}-${i}.png,${d},${split}`);
        if (split === 'test') heldOut.push({ png, digit: d });
      }
    }
    entries.push({ path: 'labels.csv', data: Buffer.from(rows.join('\n') + '\n') });
    const versionId = await readyDataset(p, adminKey, await zipOf(entries), {
      imageSize: '28',
      channels: '1',
    });
    const job = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: adminKey,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        budget: { maxMinutes: 10 },
        options: { epochs: 8 },
      },
    });
    expect(job.status).toBe(202);
    await jobSucceeded(p, adminKey, job.body.id as string, {
      what: 'training to finish',
      timeoutMs: 600_000,
    });
    const models = await call(p.apiUrl, 'GET', '/v1/models', { token: adminKey });
    trainedModelId = models.body.items[0].id;
    report = (await call(p.apiUrl, 'GET', `/v1/models/${trainedModelId}`, { token: adminKey })).body.report;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('answers the held-out images with the accuracy of the evaluation report; the downloaded model gives the same predictions in plain tfjs', async () => {
    expect(report.numSamples).toBe(heldOut.length);
    const deploymentId = await deploy(p, adminKey, trainedModelId);

    const predictions: Prediction[] = [];
    for (let i = 0; i < heldOut.length; i += 20) {
      const r = await predictMultipart(
        p.servingUrl,
        deploymentId,
        predictKey,
        heldOut.slice(i, i + 20).map((h) => h.png),
        { topK: '3' },
      );
      expect(r.status).toBe(200);
      expect(r.body.modelId).toBe(trainedModelId);
      expect(r.body.deploymentId).toBe(deploymentId);
      expect(typeof r.body.modelVersion).toBe('string');
      expect(r.body.predictions).toHaveLength(Math.min(20, heldOut.length - i));
      predictions.push(...(r.body.predictions as Prediction[]));
    }
    expect(predictions.every((q) => q.top.length === 3 && q.top[0].label === q.label)).toBe(true);
    const correct = predictions.filter((q, i) => q.label === String(heldOut[i].digit)).length;
    const accuracy = correct / heldOut.length;
    console.log(
      `serving e2e: endpoint accuracy ${accuracy} vs report ${report.accuracy} on ${heldOut.length} held-out images`,
    );
    // Same images, same preprocessing from the manifest: at most one image may flip on float rounding.
    expect(Math.abs(accuracy - report.accuracy)).toBeLessThanOrEqual(1 / heldOut.length + 1e-9);
    expect(accuracy).toBeGreaterThan(0.6);

    const dl = await call(p.apiUrl, 'POST', `/v1/models/${trainedModelId}/download`, { token: adminKey });
    const zip = Buffer.from(await (await fetch(dl.body.url)).arrayBuffer());
    await tf.setBackend('cpu');
    const { model, manifest } = await loadDownloadedModel(zip);
    expect(manifest.normalization.kind).toBe('unit');
    const pixels = await Promise.all(heldOut.map(async (h) => sharp(h.png).greyscale().raw().toBuffer()));
    const batch = tf.tensor4d(
      Float32Array.from(Buffer.concat(pixels), (v) => v / 255),
      [heldOut.length, 28, 28, 1],
    );
    const probabilities = (model.predict(batch) as tf.Tensor2D).arraySync();
    probabilities.forEach((row, i) => {
      const best = row.indexOf(Math.max(...row));
      expect(manifest.classNames[best]).toBe(predictions[i].label);
      expect(row[best]).toBeCloseTo(predictions[i].score, 3);
    });
  });

  it('takes base64 JSON and raw image bodies, and refuses bad requests with clear problems', async () => {
    const deploymentId = await deploy(p, adminKey, trainedModelId);
    const url = `${p.servingUrl}/v1/deployments/${deploymentId}/predict`;
    const png = heldOut[0].png;
    const json = await call(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      token: predictKey,
      body: {
        images: [png.toString('base64'), { base64: `data:image/png;base64,${png.toString('base64')}` }],
        topK: 2,
      },
    });
    expect(json.status).toBe(200);
    expect(json.body.predictions).toHaveLength(2);
    expect(json.body.predictions[0]).toEqual(json.body.predictions[1]);
    expect(json.body.predictions[0].top).toHaveLength(2);
    const raw = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${predictKey}`, 'content-type': 'image/png' },
      body: png,
    });
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { predictions: Prediction[] }).predictions[0].label).toBe(
      json.body.predictions[0].label,
    );

    const notImage = await call(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      token: predictKey,
      body: { images: [Buffer.from('not an image').toString('base64')] },
    });
    expect(notImage.status).toBe(422);
    expect(notImage.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const empty = await call(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      token: predictKey,
      body: { images: [] },
    });
    expect(empty.status).toBe(400);
    const tooMany = await call(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      token: predictKey,
      body: { images: Array.from({ length: 33 }, () => png.toString('base64')) },
    });
    expect(tooMany.status).toBe(413);
    const text = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${predictKey}`, 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    const unknown = await call(p.servingUrl, 'POST', '/v1/deployments/nope/predict', {
      token: predictKey,
      body: { images: [png.toString('base64')] },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.instance).toBe('/v1/deployments/nope/predict');
    expect(unknown.body.requestId).toEqual(unknown.headers.get('x-request-id'));

    // Predict skips the app's router: request ids, content types and access logs must still be there.
    const traced = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${predictKey}`,
        'content-type': 'image/png',
        'x-request-id': 'trace-abc.1',
      },
      body: png,
    });
    expect(traced.status).toBe(200);
    expect(traced.headers.get('x-request-id')).toBe('trace-abc.1');
    expect(traced.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await traced.json()) as { deploymentId: string }).deploymentId).toBe(deploymentId);
    // Other methods on the path are the router's: 404, as before.
    expect((await fetch(url, { headers: { authorization: `Bearer ${predictKey}` } })).status).toBe(404);
    // At LOG_LEVEL=warn, refused requests are logged (with the deployment, never the key).
    const line = await waitFor('the access log line of the 404', async () =>
      p.serving
        .output()
        .split('\n')
        .find((l) => l.includes('"deploymentId":"nope"')),
    );
    expect(JSON.parse(line)).toMatchObject({
      msg: 'request completed',
      res: { statusCode: 404 },
      req: { method: 'POST', url: '/v1/deployments/nope/predict' },
      tenantId,
    });
    expect(p.serving.output()).not.toContain(predictKey);
  });

  it('needs a PREDICT-scoped key of the owning tenant and enforces its per-key rate limit with 429 + Retry-After', async () => {
    const deploymentId = await deploy(p, adminKey, trainedModelId);
    const body = { images: [heldOut[1].png.toString('base64')] };
    const path = `/v1/deployments/${deploymentId}/predict`;
    expect((await call(p.servingUrl, 'POST', path, { body })).status).toBe(401);
    expect(
      (await call(p.servingUrl, 'POST', path, { token: 'msk_00000000_' + 'a'.repeat(43), body })).status,
    ).toBe(401);
    const readKey = await createKey(p, adminKey, ['READ']);
    const readOnly = await call(p.servingUrl, 'POST', path, { token: readKey, body });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.code).toBe('INSUFFICIENT_SCOPE');
    const other = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Stranger' },
    });
    expect((await call(p.servingUrl, 'POST', path, { token: other.body.apiKey.key, body })).status).toBe(404);

    const limited = await createKey(p, adminKey, ['PREDICT'], 3);
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await call(p.servingUrl, 'POST', path, { token: limited, body });
      statuses.push(r.status);
      if (r.status === 429) refused = r;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(refused!.body.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Other keys are not affected by this key's limit.
    expect((await call(p.servingUrl, 'POST', path, { token: predictKey, body })).status).toBe(200);

    // A revoked key stops predicting at once, though serving had its lookup cached (for 10 s).
    const doomed = await call(p.apiUrl, 'POST', '/v1/api-keys', {
      token: adminKey,
      body: { name: 'doomed', scopes: ['PREDICT'] },
    });
    expect((await call(p.servingUrl, 'POST', path, { token: doomed.body.key, body })).status).toBe(200);
    expect(
      (await call(p.apiUrl, 'DELETE', `/v1/api-keys/${doomed.body.id as string}`, { token: adminKey }))
        .status,
    ).toBe(200);
    // Well inside the cache's 10 s: only the revocation notice can make this pass.
    await waitFor(
      'revoked key refused',
      async () => (await call(p.servingUrl, 'POST', path, { token: doomed.body.key, body })).status === 401,
      5_000,
      50,
    );
  });

  it('swaps the model behind a deployment without failing a request, then stops answering once undeployed', async () => {
    const replacement = await storeModel(p, tenantId, tinyDigitModel(7), DIGITS, 'replacement');
    const deploymentId = await deploy(p, adminKey, trainedModelId);
    const body = { images: [heldOut[2].png.toString('base64'), heldOut[3].png.toString('base64')] };
    const path = `/v1/deployments/${deploymentId}/predict`;
    const answeredBy: string[] = [];
    const failures: string[] = [];
    let sawReplacementAt = -1;
    const client = async () => {
      while (sawReplacementAt < 0 || answeredBy.length < sawReplacementAt + 20) {
        const r = await call(p.servingUrl, 'POST', path, { token: predictKey, body });
        if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        else {
          answeredBy.push(r.body.modelId as string);
          if (r.body.modelId === replacement.id && sawReplacementAt < 0) sawReplacementAt = answeredBy.length;
        }
        if (failures.length > 0 || answeredBy.length > 5_000) return;
      }
    };
    const clients = Promise.all([client(), client(), client(), client()]);
    await waitFor('traffic before the swap', async () => answeredBy.length >= 20);
    const swap = await call(p.apiUrl, 'PATCH', `/v1/deployments/${deploymentId}`, {
      token: adminKey,
      body: { modelId: replacement.id },
    });
    expect(swap.status).toBe(200);
    await clients;
    expect(failures).toEqual([]);
    expect(answeredBy[0]).toBe(trainedModelId);
    expect(sawReplacementAt).toBeGreaterThan(0);
    // Once the new model answers, the old one only finishes what was already in flight (one per client).
    expect(answeredBy.slice(sawReplacementAt).filter((m) => m !== replacement.id).length).toBeLessThanOrEqual(
      4,
    );
    expect(answeredBy.slice(-8).every((m) => m === replacement.id)).toBe(true);

    const undeploy = await call(p.apiUrl, 'POST', `/v1/deployments/${deploymentId}/undeploy`, {
      token: adminKey,
    });
    expect(undeploy.status).toBe(200);
    const refused = await waitFor('undeploy to reach serving', async () => {
      const r = await call(p.servingUrl, 'POST', path, { token: predictKey, body });
      return r.status === 409 ? r : undefined;
    });
    expect(refused.body.code).toBe('CONFLICT');
  });

  it('refuses a model whose manifest points outside its own prefix, with a clear problem, and never loads it', async () => {
    const stored = await storeModel(p, tenantId, tinyDigitModel(3), DIGITS, 'tampered');
    const manifestKey = `${stored.prefix}manifest.json`;
    const manifest = JSON.parse((await p.s3.store.getBytes(manifestKey)).toString()) as {
      files: { path: string }[];
    };
    const shard = manifest.files.find((f) => f.path !== 'model.json')!;
    shard.path = `../${shard.path}`;
    await p.s3.store.putBytes(manifestKey, Buffer.from(JSON.stringify(manifest)), 'application/json');
    const deploymentId = await deploy(p, adminKey, stored.id);
    const r = await call(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      token: predictKey,
      body: { images: [heldOut[0].png.toString('base64')] },
    });
    expect(r.status).toBe(422);
    expect(r.body.title).toBe('Model refused');
    expect(r.body.reason).toMatch(/^ARTIFACT_/);
    expect(r.body.detail).toMatch(/\.\./);
    const stats = await call(p.servingUrl, 'GET', '/v1/serving/stats', { token: p.adminToken });
    expect(stats.status).toBe(200);
    expect((stats.body.models as { modelId: string }[]).some((m) => m.modelId === stored.id)).toBe(false);
    expect(stats.body.loadFailures).toBeGreaterThanOrEqual(1);
  });

  it('writes an access log line for its own routes (stats) as for predictions, with request ids and no secrets, at LOG_LEVEL=info', async () => {
    // Nest's routes in the serving app are logged by pino-http directly (not nestjs-pino's middleware,
    // whose AsyncLocalStorage put promise hooks on every prediction): the lines must still be there.
    const serving = await p.startServing({ LOG_LEVEL: 'info' });
    const stats = await fetch(`${serving.url}/v1/serving/stats`, {
      headers: { authorization: `Bearer ${p.adminToken}`, 'x-request-id': 'stats-trace.7' },
    });
    expect(stats.status).toBe(200);
    expect(stats.headers.get('x-request-id')).toBe('stats-trace.7');
    const line = await waitFor('the access log line of the stats request', async () =>
      serving.process
        .output()
        .split('\n')
        .find((l) => l.includes('stats-trace.7')),
    );
    expect(JSON.parse(line)).toMatchObject({
      name: 'modelsmith-serving',
      msg: 'request completed',
      req: { id: 'stats-trace.7', method: 'GET', url: '/v1/serving/stats' },
      res: { statusCode: 200 },
    });
    expect(serving.process.output()).not.toContain(p.adminToken);
    // A prediction on the same process is logged by the predict handler, in the same shape.
    const deploymentId = await deploy(p, adminKey, trainedModelId);
    const predicted = await call(serving.url, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      token: predictKey,
      body: { images: [heldOut[0].png.toString('base64')] },
      headers: { 'x-request-id': 'predict-trace.7' },
    });
    expect(predicted.status).toBe(200);
    const predictLine = await waitFor('the access log line of the prediction', async () =>
      serving.process
        .output()
        .split('\n')
        .find((l) => l.includes('predict-trace.7')),
    );
    expect(JSON.parse(predictLine)).toMatchObject({
      name: 'modelsmith-serving',
      msg: 'request completed',
      req: { id: 'predict-trace.7', method: 'POST' },
      res: { statusCode: 200 },
      deploymentId,
    });
    expect(serving.process.output()).not.toContain(predictKey);
  });

  it('sheds load with 503 + Retry-After instead of queueing without bound', async () => {
    const serving = await p.startServing({
      SERVING_MAX_QUEUED_IMAGES: '8',
      SERVING_MAX_CONCURRENT_REQUESTS: '6',
      SERVING_MAX_BATCH_SIZE: '4',
    });
    const deploymentId = await deploy(p, adminKey, trainedModelId);
    // Photos-sized JPEGs, so every request spends milliseconds decoding on the thread pool and the
    // burst overlaps whatever the machine's speed (28x28 PNGs decode in microseconds).
    const images = await Promise.all(
      heldOut
        .slice(0, 4)
        .map(async (h) =>
          (await sharp(h.png).resize(640, 640).jpeg({ quality: 95 }).toBuffer()).toString('base64'),
        ),
    );
    const path = `/v1/deployments/${deploymentId}/predict`;
    // Warm the model, then send a burst far over what the limits admit.
    expect((await call(serving.url, 'POST', path, { token: predictKey, body: { images } })).status).toBe(200);
    const burst = await Promise.all(
      Array.from({ length: 40 }, () =>
        call(serving.url, 'POST', path, { token: predictKey, body: { images } }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    const shed = burst.filter((r) => r.status === 503);
    console.log(
      `serving e2e: burst of 40 -> ${statuses.filter((s) => s === 200).length} answered, ${shed.length} shed`,
    );
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) {
      expect(r.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // After the burst the process answers normally again.
    expect((await call(serving.url, 'POST', path, { token: predictKey, body: { images } })).status).toBe(200);
  });
});
