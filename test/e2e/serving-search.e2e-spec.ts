import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { mnistPng } from '../support/archives';
import { storeModel, tinyDigitModel } from '../support/models';

jest.setTimeout(240_000);

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

interface Tuning {
  slo: { p99Ms: number };
  expectedLoad: { rps: number };
  maxBatchSize: number;
  maxBatchWaitMs: number;
  replicas: number;
  predicted: { p50Ms: number; p99Ms: number; utilisation: number; meanBatchSize: number };
  modelId: string;
  calibration: {
    backend: string;
    passes: Array<{ size: number; passMs: number; imagesPerSecond: number }>;
    requestMs: number;
  };
}

describe('serving search end to end (API calibrates and tunes, serving applies)', () => {
  let p: Platform;
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    p = await startPlatform();
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Tune' },
    });
    tenantId = t.body.tenant.id;
    key = t.body.apiKey.key;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('deploys with an slo and expected load: the answer carries a config and predicted p99, the serving app applies it', async () => {
    const model = await storeModel(p, tenantId, tinyDigitModel(3), DIGITS, 'digits');
    const created = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: model.id, slo: { p99Ms: 250 }, expectedLoad: { rps: 50 } },
    });
    expect(created.status).toBe(201);
    const tuning = created.body.tuning as Tuning;
    expect(tuning).toMatchObject({ slo: { p99Ms: 250 }, expectedLoad: { rps: 50 }, modelId: model.id });
    expect(tuning.replicas).toBe(1);
    expect(tuning.maxBatchSize).toBeGreaterThanOrEqual(1);
    expect(tuning.maxBatchSize).toBeLessThanOrEqual(32);
    expect(tuning.maxBatchWaitMs).toBeGreaterThanOrEqual(0);
    expect(tuning.predicted.p99Ms).toBeGreaterThan(0);
    expect(tuning.predicted.p99Ms).toBeLessThanOrEqual(250);
    expect(tuning.predicted.p50Ms).toBeLessThanOrEqual(tuning.predicted.p99Ms);
    expect(tuning.calibration.passes.map((c) => c.size)[0]).toBe(1);
    for (const c of tuning.calibration.passes) expect(c.passMs).toBeGreaterThan(0);
    // The request thread's work per request (decoding a 28x28 PNG, JSON): measured, and in the prediction.
    expect(tuning.calibration.requestMs).toBeGreaterThan(0);
    expect(tuning.predicted.p50Ms).toBeGreaterThanOrEqual(
      Math.floor(tuning.calibration.requestMs * 100) / 100,
    );
    const id = created.body.id as string;

    const got = await call(p.apiUrl, 'GET', `/v1/deployments/${id}`, { token: key });
    expect(got.body.tuning).toEqual(created.body.tuning);

    // Predictions still work, served with the tuned batch size and wait.
    const predicted = await call(p.servingUrl, 'POST', `/v1/deployments/${id}/predict`, {
      token: key,
      body: { images: [(await mnistPng(3, 1)).toString('base64')] },
    });
    expect(predicted.status).toBe(200);
    expect(predicted.body.predictions).toHaveLength(1);
    const stats = await call(p.servingUrl, 'GET', '/v1/serving/stats', { token: p.adminToken });
    expect(stats.body.models).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          modelId: model.id,
          batchSize: tuning.maxBatchSize,
          batchWaitMs: tuning.maxBatchWaitMs,
        }),
      ]),
    );

    // Re-tuning reuses the calibration of the same model version, and a stricter rate changes the answer's load.
    const retuned = await call(p.apiUrl, 'POST', `/v1/deployments/${id}/tune`, {
      token: key,
      body: { slo: { p99Ms: 250 }, expectedLoad: { rps: 400 } },
    });
    expect(retuned.status).toBe(200);
    expect(retuned.body.tuning.expectedLoad).toEqual({ rps: 400 });
    expect(retuned.body.tuning.calibration).toEqual(tuning.calibration);
    await waitFor('a prediction after re-tuning', async () => {
      const s = await call(p.servingUrl, 'POST', `/v1/deployments/${id}/predict`, {
        token: key,
        body: { images: [(await mnistPng(4, 2)).toString('base64')] },
      });
      return s.status === 200;
    });

    // Swapping the model drops the tuning (it was calibrated on the previous model).
    const other = await storeModel(p, tenantId, tinyDigitModel(4), DIGITS, 'digits 2');
    const swapped = await call(p.apiUrl, 'PATCH', `/v1/deployments/${id}`, {
      token: key,
      body: { modelId: other.id },
    });
    expect(swapped.status).toBe(200);
    expect(swapped.body.tuning).toBeNull();
  });

  it('answers an objective it cannot meet with 422 and the best achievable p99, and changes nothing', async () => {
    const model = await storeModel(p, tenantId, tinyDigitModel(5), DIGITS, 'tight');
    const d = await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: { modelId: model.id } });
    expect(d.status).toBe(201);
    // One replica cannot take 100,000 requests/s (plus headroom) of even this tiny model within 1 ms:
    // its request thread alone (decoding each image) caps it far below that.
    const r = await call(p.apiUrl, 'POST', `/v1/deployments/${d.body.id}/tune`, {
      token: key,
      body: { slo: { p99Ms: 1 }, expectedLoad: { rps: 100_000 }, maxReplicas: 1 },
    });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.body.reason).toBe('SLO_INFEASIBLE');
    expect(r.body.bestAchievable.p99Ms).toBeGreaterThan(1);
    expect(r.body.bestAchievable.replicas).toBe(1);
    expect(r.body.detail).toMatch(/p99 <= 1 ms at 100000 requests\/s/);
    expect(
      (await call(p.apiUrl, 'GET', `/v1/deployments/${d.body.id}`, { token: key })).body.tuning,
    ).toBeNull();
  });

  it('refuses bad input with a 4xx problem', async () => {
    const model = await storeModel(p, tenantId, tinyDigitModel(6), DIGITS, 'bad');
    const bodies: unknown[] = [
      { modelId: model.id, slo: { p99Ms: 50 } },
      { modelId: model.id, expectedLoad: { rps: 5 } },
      { modelId: model.id, slo: { p99Ms: 0 }, expectedLoad: { rps: 5 } },
      { modelId: model.id, slo: { p99Ms: 50 }, expectedLoad: { rps: 1e9 } },
      { modelId: model.id, slo: { p99Ms: 'fast' }, expectedLoad: { rps: 5 } },
      { modelId: model.id, slo: { p99Ms: 50, extra: 1 }, expectedLoad: { rps: 5 } },
      { modelId: model.id, slo: [50], expectedLoad: { rps: 5 } },
    ];
    for (const body of bodies) {
      const r = await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body });
      expect([r.status, JSON.stringify(body)]).toEqual([400, JSON.stringify(body)]);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    const d = await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: { modelId: model.id } });
    expect(d.status).toBe(201);
    expect(d.body.tuning).toBeNull();
    const tune = (body: unknown, id = d.body.id as string) =>
      call(p.apiUrl, 'POST', `/v1/deployments/${id}/tune`, { token: key, body });
    expect((await tune({ slo: { p99Ms: 50 } })).status).toBe(400);
    expect((await tune({ slo: { p99Ms: 50 }, expectedLoad: { rps: 5 }, maxReplicas: 1000 })).status).toBe(
      400,
    );
    expect(
      (await tune({ slo: { p99Ms: 50 }, expectedLoad: { rps: 5 } }, '00000000-0000-4000-8000-000000000000'))
        .status,
    ).toBe(404);
    // PATCH does not take an slo (tuning is its own action).
    const patched = await call(p.apiUrl, 'PATCH', `/v1/deployments/${d.body.id}`, {
      token: key,
      body: { slo: { p99Ms: 50 } },
    });
    expect(patched.status).toBe(400);
  });
});
