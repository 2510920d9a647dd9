import { Client } from 'pg';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';

jest.setTimeout(180_000);

describe('platform foundation (real API and worker processes)', () => {
  let p: Platform;
  let keyA: string;
  let keyB: string;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    p = await startPlatform();
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Tenant A' },
    });
    const b = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Tenant B' },
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    keyA = a.body.apiKey.key;
    keyB = b.body.apiKey.key;
    tenantA = a.body.tenant.id;
    tenantB = b.body.tenant.id;
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('serves health and the OpenAPI document without authentication', async () => {
    expect((await call(p.apiUrl, 'GET', '/v1/health/live')).status).toBe(200);
    const ready = await call(p.apiUrl, 'GET', '/v1/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({
      postgres: { status: 'up' },
      redis: { status: 'up' },
      objectStore: { status: 'up' },
    });
    const doc = await call(p.apiUrl, 'GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/api-keys', '/v1/admin/tenants']),
    );
    expect((await fetch(`${p.apiUrl}/docs`)).headers.get('content-type')).toContain('text/html');
    expect((await call(p.workerUrl, 'GET', '/health')).body.status).toBe('ok');
  });

  it('rejects missing, malformed and revoked keys with problem+json', async () => {
    const none = await call(p.apiUrl, 'GET', '/v1/jobs');
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(none.body.requestId).toEqual(none.headers.get('x-request-id'));

    expect(
      (await call(p.apiUrl, 'GET', '/v1/jobs', { token: 'msk_00000000_' + 'x'.repeat(43) })).status,
    ).toBe(401);
    // The operator token manages tenants only.
    expect((await call(p.apiUrl, 'GET', '/v1/jobs', { token: p.adminToken })).status).toBe(403);
    // Tenant keys cannot call operator routes.
    expect(
      (await call(p.apiUrl, 'POST', '/v1/admin/tenants', { token: keyA, body: { name: 'x' } })).status,
    ).toBe(403);

    const created = await call(p.apiUrl, 'POST', '/v1/api-keys', {
      token: keyA,
      body: { name: 'temp', scopes: ['READ'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^msk_/);
    expect((await call(p.apiUrl, 'GET', '/v1/jobs', { token: created.body.key })).status).toBe(200);
    // READ cannot start jobs.
    const denied = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: created.body.key,
      body: { task: 'noop' },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('INSUFFICIENT_SCOPE');
    const listed = await call(p.apiUrl, 'GET', '/v1/api-keys', { token: keyA });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect((await call(p.apiUrl, 'DELETE', `/v1/api-keys/${created.body.id}`, { token: keyA })).status).toBe(
      200,
    );
    expect((await call(p.apiUrl, 'GET', '/v1/jobs', { token: created.body.key })).status).toBe(401);
  });

  it('validates bodies with field-level problems and caps body size', async () => {
    const bad = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: keyA,
      body: { task: 'teleport', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'task']);
    const huge = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: keyA,
      body: { task: 'noop', pad: 'x'.repeat(2_000_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('runs a job through queue and worker, and reports its status and events', async () => {
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', { token: keyA, body: { task: 'noop' } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const done = await waitFor('job to succeed', async () => {
      const r = await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: keyA });
      return r.body.status === 'SUCCEEDED' ? r.body : undefined;
    });
    expect(done).toMatchObject({ kind: 'NOOP', percent: 100, attempts: 1 });
    expect(done.result.ok).toBe(true);
    const events = await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: keyA });
    const types = events.body.map((e: { type: string }) => e.type);
    expect(types[0]).toBe('queued');
    expect(types).toContain('started');
    expect(types).toContain('progress');
    expect(types[types.length - 1]).toBe('succeeded');
    expect(events.body.map((e: { seq: number }) => e.seq)).toEqual(
      types.map((_: string, i: number) => i + 1),
    );
  });

  it("isolates tenants: B gets 404 on A's job and sees none of A's rows", async () => {
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', { token: keyA, body: { task: 'noop' } });
    const id = created.body.id as string;
    const asB = await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: keyB });
    expect(asB.status).toBe(404);
    expect(asB.body.code).toBe('NOT_FOUND');
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: keyB })).status).toBe(404);
    expect((await call(p.apiUrl, 'POST', `/v1/jobs/${id}/cancel`, { token: keyB })).status).toBe(404);
    const listB = await call(p.apiUrl, 'GET', '/v1/jobs', { token: keyB });
    expect(listB.body.items).toEqual([]);

    // A raw query with no WHERE clause, as the application role under B's tenant setting.
    const client = new Client({ connectionString: p.db.appUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenantB]);
      const jobs = await client.query('SELECT tenant_id FROM jobs');
      const keys = await client.query('SELECT tenant_id FROM api_keys');
      expect(jobs.rows).toEqual([]);
      expect(keys.rows.every((r: { tenant_id: string }) => r.tenant_id === tenantB)).toBe(true);
      expect(keys.rows.length).toBeGreaterThan(0);
      await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenantA]);
      const jobsA = await client.query('SELECT tenant_id FROM jobs');
      expect(jobsA.rows.length).toBeGreaterThanOrEqual(2);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
  });
});
