import { Redis } from 'ioredis';
import { deploymentEventsChannel } from '@modelsmith/contracts';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { storeModel, tinyDigitModel } from '../support/models';

jest.setTimeout(180_000);

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

describe('deployments API end to end (API, Postgres, Redis)', () => {
  let p: Platform;
  let tenantId: string;
  let key: string;
  let subscriber: Redis;
  const notices: { tenantId: string; deploymentId: string }[] = [];

  beforeAll(async () => {
    p = await startPlatform();
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Ops' },
    });
    tenantId = t.body.tenant.id;
    key = t.body.apiKey.key;
    subscriber = new Redis(p.env.REDIS_URL);
    subscriber.on('message', (_channel: string, message: string) =>
      notices.push(JSON.parse(message) as { tenantId: string; deploymentId: string }),
    );
    await subscriber.subscribe(deploymentEventsChannel(p.env.QUEUE_PREFIX));
  });

  afterAll(async () => {
    subscriber?.disconnect();
    await p?.stop();
  });

  it('creates, lists, swaps, undeploys, activates and deletes, announcing every change to serving', async () => {
    const first = await storeModel(p, tenantId, tinyDigitModel(1), DIGITS, 'first');
    const second = await storeModel(p, tenantId, tinyDigitModel(2), DIGITS, 'second');

    const created = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: first.id, config: { topK: 3 } },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      status: 'ACTIVE',
      modelId: first.id,
      name: 'first',
      config: { topK: 3 },
      model: { id: first.id, name: 'first' },
    });
    expect(created.body.predictUrl).toBe(`${p.servingUrl}/v1/deployments/${id}/predict`);

    const listed = await call(p.apiUrl, 'GET', '/v1/deployments?status=ACTIVE', { token: key });
    expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual([id]);

    const swapped = await call(p.apiUrl, 'PATCH', `/v1/deployments/${id}`, {
      token: key,
      body: { modelId: second.id, name: 'prod' },
    });
    expect(swapped.status).toBe(200);
    expect(swapped.body).toMatchObject({ modelId: second.id, name: 'prod', config: { topK: 3 } });

    const undeployed = await call(p.apiUrl, 'POST', `/v1/deployments/${id}/undeploy`, { token: key });
    expect(undeployed.body.status).toBe('INACTIVE');
    expect((await call(p.apiUrl, 'POST', `/v1/deployments/${id}/undeploy`, { token: key })).body.status).toBe(
      'INACTIVE',
    );
    const refusedSwap = await call(p.apiUrl, 'PATCH', `/v1/deployments/${id}`, {
      token: key,
      body: { modelId: first.id },
    });
    expect(refusedSwap.status).toBe(409);
    expect((await call(p.apiUrl, 'GET', '/v1/deployments?status=ACTIVE', { token: key })).body.items).toEqual(
      [],
    );

    expect((await call(p.apiUrl, 'POST', `/v1/deployments/${id}/activate`, { token: key })).body.status).toBe(
      'ACTIVE',
    );
    expect((await call(p.apiUrl, 'DELETE', `/v1/deployments/${id}`, { token: key })).status).toBe(204);
    expect((await call(p.apiUrl, 'GET', `/v1/deployments/${id}`, { token: key })).status).toBe(404);
    expect((await call(p.apiUrl, 'DELETE', `/v1/deployments/${id}`, { token: key })).status).toBe(404);

    // create, swap, undeploy, undeploy, activate, delete: six notices for this deployment.
    await waitFor('deployment notices', async () => notices.filter((n) => n.deploymentId === id).length >= 6);
    expect(notices.filter((n) => n.deploymentId === id).every((n) => n.tenantId === tenantId)).toBe(true);
  });

  it('keeps a deployed model from being deleted, and keeps tenants apart', async () => {
    const model = await storeModel(p, tenantId, tinyDigitModel(3), DIGITS, 'guarded');
    const d = await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: { modelId: model.id } });
    const id = d.body.id as string;
    const blocked = await call(p.apiUrl, 'DELETE', `/v1/models/${model.id}`, { token: key });
    expect(blocked.status).toBe(409);
    expect(blocked.body.deployments).toEqual([id]);

    const other = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Other' },
    });
    const otherKey = other.body.apiKey.key as string;
    expect((await call(p.apiUrl, 'GET', `/v1/deployments/${id}`, { token: otherKey })).status).toBe(404);
    expect((await call(p.apiUrl, 'POST', `/v1/deployments/${id}/undeploy`, { token: otherKey })).status).toBe(
      404,
    );
    expect(
      (await call(p.apiUrl, 'POST', '/v1/deployments', { token: otherKey, body: { modelId: model.id } }))
        .status,
    ).toBe(404);
    expect((await call(p.apiUrl, 'GET', '/v1/deployments', { token: otherKey })).body.items).toEqual([]);

    expect((await call(p.apiUrl, 'POST', `/v1/deployments/${id}/undeploy`, { token: key })).status).toBe(200);
    expect((await call(p.apiUrl, 'DELETE', `/v1/models/${model.id}`, { token: key })).status).toBe(204);
    // The model is gone: the deployment cannot come back.
    expect((await call(p.apiUrl, 'POST', `/v1/deployments/${id}/activate`, { token: key })).status).toBe(404);
  });

  it('never leaves an ACTIVE deployment on a model deleted at the same moment', async () => {
    for (let i = 0; i < 4; i++) {
      const model = await storeModel(p, tenantId, tinyDigitModel(20 + i), DIGITS, `race-${i}`);
      const [deployed, deleted] = await Promise.all([
        call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: { modelId: model.id } }),
        call(p.apiUrl, 'DELETE', `/v1/models/${model.id}`, { token: key }),
      ]);
      // Exactly one wins: deployed (and the delete refused with 409), or deleted (and the deploy a 404).
      expect([deployed.status, deleted.status].sort()).toEqual(
        deployed.status === 201 ? [201, 409] : [204, 404],
      );
      if (deployed.status === 201)
        expect(
          (await call(p.apiUrl, 'DELETE', `/v1/deployments/${deployed.body.id as string}`, { token: key }))
            .status,
        ).toBe(204);
    }
  });

  it('validates input, refuses models that cannot serve, and needs the TRAIN scope to change deployments', async () => {
    const bad = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: 'x', config: { topK: 0 } },
    });
    expect(bad.status).toBe(400);
    expect((await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: {} })).status).toBe(400);

    const tabular = await p.system.model.create({
      data: {
        tenantId,
        name: 'table',
        task: 'TABULAR_CLASSIFICATION',
        artifactPrefix: `tenants/${tenantId}/models/t/`,
      },
    });
    const refused = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: key,
      body: { modelId: tabular.id },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('MODEL_NOT_SERVABLE');

    const model = await storeModel(p, tenantId, tinyDigitModel(4), DIGITS, 'scoped');
    const predictOnly = (
      await call(p.apiUrl, 'POST', '/v1/api-keys', { token: key, body: { name: 'p', scopes: ['PREDICT'] } })
    ).body.key as string;
    expect(
      (await call(p.apiUrl, 'POST', '/v1/deployments', { token: predictOnly, body: { modelId: model.id } }))
        .status,
    ).toBe(403);
    expect((await call(p.apiUrl, 'GET', '/v1/deployments', { token: predictOnly })).status).toBe(200);
  });
});
