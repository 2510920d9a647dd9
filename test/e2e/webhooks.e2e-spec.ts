import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WEBHOOK_HEADERS, webhookSignature } from '@modelsmith/jobs';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { storeModel, tinyDigitModel } from '../support/models';

jest.setTimeout(180_000);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP receiver: records every request; `answer` picks each status by path and index (0-based). */
class Receiver {
  readonly received: Received[] = [];
  private server?: Server;
  answer: (path: string, nth: number) => number = () => 204;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = this.answer(path, this.on(path).length - 1);
        res.end('ok');
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server?.close(done));
  }
}

describe('signed webhooks end to end (real API, worker, Postgres, Redis and a local receiver)', () => {
  let p: Platform;
  let admin: string;
  let reader: string;
  let tenantId: string;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    // Loopback receivers need the operator's permission; retries are made fast for the test.
    p = await startPlatform({
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '200',
      WEBHOOK_RELAY_INTERVAL_MS: '200',
      WEBHOOK_TIMEOUT_MS: '3000',
    });
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Hooks' },
    });
    admin = t.body.apiKey.key;
    tenantId = t.body.tenant.id;
    const k = await call(p.apiUrl, 'POST', '/v1/api-keys', {
      token: admin,
      body: { name: 'reader', scopes: ['READ', 'TRAIN'] },
    });
    reader = k.body.key;
  });

  afterAll(async () => {
    await p?.stop();
    await receiver.stop();
  });

  async function endpoint(path: string, events: string[]) {
    const r = await call(p.apiUrl, 'POST', '/v1/webhooks', {
      token: admin,
      body: { url: `${receiver.url}${path}`, events },
    });
    expect(r.status).toBe(201);
    return r.body as { id: string; secret: string; url: string };
  }

  const deliveries = async (id: string) =>
    (await call(p.apiUrl, 'GET', `/v1/webhooks/${id}/deliveries`, { token: admin })).body.items as {
      status: string;
      eventType: string;
      attempts: number;
      log: { attempt: number; statusCode: number | null; latencyMs: number; error: string | null }[];
    }[];

  it('signs a job.succeeded event that the documented recipe verifies, and shows the secret only once', async () => {
    const hook = await endpoint('/jobs', ['job.succeeded', 'job.failed', 'job.cancelled']);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const got = await call(p.apiUrl, 'GET', `/v1/webhooks/${hook.id}`, { token: admin });
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(
      JSON.stringify((await call(p.apiUrl, 'GET', '/v1/webhooks', { token: admin })).body),
    ).not.toContain(hook.secret);

    const job = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: admin,
      body: { task: 'noop', options: { durationMs: 0 } },
    });
    expect(job.status).toBe(202);
    const [req] = await waitFor(
      'the job.succeeded delivery',
      async () => receiver.on('/jobs').length > 0 && receiver.on('/jobs'),
      60_000,
    );
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      type: 'job.succeeded',
      data: { job: { id: job.body.id, status: 'SUCCEEDED', kind: 'NOOP' } },
    });
    expect(req.headers[WEBHOOK_HEADERS.id]).toBe(body.id);
    expect(req.headers[WEBHOOK_HEADERS.event]).toBe('job.succeeded');
    expect(req.headers['content-type']).toBe('application/json');
    // The recipe: HMAC-SHA256 over "<timestamp>.<raw body>", compared in constant time, timestamp within 5 min.
    expect(verifyWebhook(hook.secret, req.headers, req.body)).toEqual({ ok: true });
    const ts = Number(req.headers[WEBHOOK_HEADERS.timestamp]);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(60);
    expect(req.headers[WEBHOOK_HEADERS.signature]).toBe(`v1=${webhookSignature(hook.secret, ts, req.body)}`);
    expect(verifyWebhook(hook.secret, req.headers, req.body.replace('SUCCEEDED', 'FAILED'))).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    expect(verifyWebhook('whsec_other', req.headers, req.body)).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    expect(verifyWebhook(hook.secret, req.headers, req.body, { now: ts + 301 })).toEqual({
      ok: false,
      reason: 'TIMESTAMP_OUT_OF_WINDOW',
    });

    const log = await waitFor('the delivery log', async () => {
      const d = await deliveries(hook.id);
      return d[0]?.status === 'SUCCEEDED' && d;
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ eventType: 'job.succeeded', attempts: 1 });
    expect(log[0].log).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 204, error: null, latencyMs: expect.any(Number) }),
    ]);

    // A queued job cancelled at once is a job.cancelled event (written in the cancel's transaction).
    const blocked = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: admin,
      body: { task: 'noop', options: { durationMs: 60_000 } },
    });
    await call(p.apiUrl, 'POST', `/v1/jobs/${blocked.body.id}/cancel`, { token: admin });
    await waitFor('the job.cancelled delivery', async () =>
      receiver.on('/jobs').some((r) => JSON.parse(r.body).type === 'job.cancelled'),
    );
  });

  it('retries after a 500 from the receiver with backoff, keeping the event id, and logs every attempt', async () => {
    const hook = await endpoint('/flaky', ['job.failed']);
    receiver.answer = (path, nth) => (path === '/flaky' && nth < 2 ? 500 : 204);
    const sent = await call(p.apiUrl, 'POST', `/v1/webhooks/${hook.id}/test`, { token: admin });
    expect(sent.status).toBe(202);
    const log = await waitFor('three attempts', async () => {
      const d = await deliveries(hook.id);
      return d[0]?.status === 'SUCCEEDED' && d;
    });
    expect(log[0]).toMatchObject({ eventType: 'webhook.test', attempts: 3 });
    expect(log[0].log.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
    expect(log[0].log[0].error).toMatch(/500/);
    const reqs = receiver.on('/flaky');
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.headers[WEBHOOK_HEADERS.id]))).toEqual(new Set([sent.body.eventId]));
    for (const r of reqs) expect(verifyWebhook(hook.secret, r.headers, r.body)).toEqual({ ok: true });

    // Always 500: FAILED after WEBHOOK_MAX_ATTEMPTS (3).
    const dead = await endpoint('/dead', ['job.failed']);
    receiver.answer = (path) => (path === '/dead' ? 503 : 204);
    await call(p.apiUrl, 'POST', `/v1/webhooks/${dead.id}/test`, { token: admin });
    const failed = await waitFor('the delivery to fail', async () => {
      const d = await deliveries(dead.id);
      return d[0]?.status === 'FAILED' && d;
    });
    expect(failed[0].attempts).toBe(3);
    expect(failed[0].log.map((a) => a.statusCode)).toEqual([503, 503, 503]);
    receiver.answer = () => 204;
  });

  it('sends deployment events', async () => {
    const hook = await endpoint('/deployments', [
      'deployment.created',
      'deployment.deactivated',
      'deployment.deleted',
    ]);
    const model = await storeModel(p, tenantId, tinyDigitModel(1), [
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    const dep = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: admin,
      body: { modelId: model.id },
    });
    expect(dep.status).toBe(201);
    await call(p.apiUrl, 'POST', `/v1/deployments/${dep.body.id}/undeploy`, { token: admin });
    await call(p.apiUrl, 'DELETE', `/v1/deployments/${dep.body.id}`, { token: admin });
    const types = await waitFor('three deployment events', async () => {
      const got = receiver
        .on('/deployments')
        .map((r) => JSON.parse(r.body) as { type: string; data: { deployment: { id: string } } });
      return got.length >= 3 && got;
    });
    expect(types.map((t) => t.type).sort()).toEqual([
      'deployment.created',
      'deployment.deactivated',
      'deployment.deleted',
    ]);
    for (const t of types) expect(t.data.deployment.id).toBe(dep.body.id);
    for (const r of receiver.on('/deployments'))
      expect(verifyWebhook(hook.secret, r.headers, r.body)).toEqual({ ok: true });
  });

  it('refuses link-local, metadata and malformed targets even when private targets are allowed', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/hook',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/',
      'http://0.0.0.0:8080/',
      'http://user:pw@example.com/',
      'ftp://example.com/hook',
      'not a url',
    ]) {
      const r = await call(p.apiUrl, 'POST', '/v1/webhooks', {
        token: admin,
        body: { url, events: ['job.failed'] },
      });
      expect([url, r.status, r.headers.get('content-type')]).toEqual([
        url,
        422,
        expect.stringContaining('application/problem+json'),
      ]);
      expect(r.body.code).toBe('UNPROCESSABLE');
    }
  });

  it('bounds and validates its input, answers 403 without ADMIN and 404 for another tenant', async () => {
    const hook = await endpoint('/x', ['job.failed']);
    const bad = [
      { url: `${receiver.url}/${'a'.repeat(2100)}`, events: ['job.failed'] },
      { url: `${receiver.url}/`, events: ['job.exploded'] },
      { url: `${receiver.url}/`, events: [] },
      { url: `${receiver.url}/`, events: ['job.failed'], description: null },
      { url: `${receiver.url}/\u0000`, events: ['job.failed'] },
    ];
    for (const body of bad) {
      const r = await call(p.apiUrl, 'POST', '/v1/webhooks', { token: admin, body });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await call(p.apiUrl, 'GET', '/v1/webhooks', { token: reader })).status).toBe(403);
    expect((await call(p.apiUrl, 'POST', `/v1/webhooks/${hook.id}/test`, { token: reader })).status).toBe(
      403,
    );
    const other = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Other' },
    });
    const otherKey = other.body.apiKey.key as string;
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${hook.id}`],
      ['PATCH', `/v1/webhooks/${hook.id}`],
      ['POST', `/v1/webhooks/${hook.id}/test`],
      ['GET', `/v1/webhooks/${hook.id}/deliveries`],
      ['DELETE', `/v1/webhooks/${hook.id}`],
    ]) {
      const r = await call(p.apiUrl, method, path, {
        token: otherKey,
        ...(method === 'PATCH' ? { body: { enabled: false } } : {}),
      });
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    const off = await call(p.apiUrl, 'PATCH', `/v1/webhooks/${hook.id}`, {
      token: admin,
      body: { enabled: false },
    });
    expect(off.body.enabled).toBe(false);
    expect((await call(p.apiUrl, 'DELETE', `/v1/webhooks/${hook.id}`, { token: admin })).status).toBe(204);
    expect((await call(p.apiUrl, 'GET', `/v1/webhooks/${hook.id}`, { token: admin })).status).toBe(404);
  });
});
