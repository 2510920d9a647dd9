import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(300_000);

/**
 * API and worker reach Postgres and Redis through proxies the test cuts for a few seconds while a
 * job runs: workers reconnect, the failed step retries, and the job completes. Nothing accepted is lost.
 */
describe('outages of Redis and Postgres', () => {
  let p: Platform;
  let key: string;
  let redis: TcpProxy;
  let pg: TcpProxy;

  beforeAll(async () => {
    redis = await startTcpProxy('127.0.0.1', 6379);
    pg = await startTcpProxy('127.0.0.1', 5432);
    p = await startPlatform({ REDIS_URL: `redis://127.0.0.1:${redis.port}` }, { databasePort: pg.port });
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Outages' },
    });
    key = a.body.apiKey.key;
  });

  afterAll(async () => {
    await p?.stop();
    await redis?.close();
    await pg?.close();
  });

  const jobStatus = async (id: string) => (await p.system.job.findUniqueOrThrow({ where: { id } })).status;

  async function runningJob(durationMs: number): Promise<string> {
    const r = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'noop', options: { durationMs } },
    });
    expect(r.status).toBe(202);
    const id = r.body.id as string;
    await waitFor('job running', async () => (await jobStatus(id)) === 'RUNNING');
    return id;
  }

  it('a job survives Redis going away for a few seconds mid-run', async () => {
    const id = await runningJob(9_000);
    redis.cut();
    await new Promise((r) => setTimeout(r, 5_000));
    redis.restore();
    await waitFor(
      'job to succeed after the Redis outage',
      async () => (await jobStatus(id)) === 'SUCCEEDED',
      120_000,
      500,
    );
    // The worker is still consuming: a new job completes too.
    const next = await call(p.apiUrl, 'POST', '/v1/jobs', { token: key, body: { task: 'noop' } });
    await waitFor(
      'a job after the outage',
      async () => (await jobStatus(next.body.id as string)) === 'SUCCEEDED',
      60_000,
      300,
    );
  });

  it('a job whose step fails while Postgres is unreachable retries and completes', async () => {
    const id = await runningJob(6_000);
    pg.cut();
    // A request that needs the database meanwhile is told to retry shortly (503), not that the server failed (500).
    const during = await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('2');
    expect(during.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    await new Promise((r) => setTimeout(r, 5_000));
    pg.restore();
    await waitFor(
      'job to succeed after the Postgres outage',
      async () => (await jobStatus(id)) === 'SUCCEEDED',
      120_000,
      500,
    );
    const job = await p.system.job.findUniqueOrThrow({ where: { id } });
    expect(job.attempts).toBeGreaterThanOrEqual(1);
    expect((await call(p.apiUrl, 'GET', '/v1/health/ready')).status).toBe(200);
  });

  it('a job accepted while Redis is down is enqueued later by the reconciler', async () => {
    redis.cut();
    let created;
    try {
      created = await call(p.apiUrl, 'POST', '/v1/jobs', { token: key, body: { task: 'noop' } });
    } finally {
      setTimeout(() => redis.restore(), 3_000);
    }
    expect(created.status).toBe(202);
    await waitFor(
      'reconciled job to succeed',
      async () => (await jobStatus(created.body.id as string)) === 'SUCCEEDED',
      120_000,
      500,
    );
  });
});
