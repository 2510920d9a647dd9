import { randomBytes } from 'node:crypto';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { jobEnded } from '../support/jobs';
import { mnistZip } from '../support/archives';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(300_000);

/**
 * A job that ends FAILED or CANCELLED leaves what it was building (here: a dataset version) ended
 * the same way, with the reason readable over the API. The worker reaches the object store through
 * a proxy the test cuts; the API reaches it directly.
 */
describe('terminal states agree: ingestion jobs and their dataset versions', () => {
  let p: Platform;
  let s3: TcpProxy;
  let archive: Buffer;

  beforeAll(async () => {
    // Retries 0.5 s, 1 s, 2 s, 4 s apart instead of from the default 2 s (30 s in all): the retried
    // job below waits ~8 s, and a job held by its retries still runs long enough to be cancelled.
    p = await startPlatform({ JOB_RETRY_BACKOFF_MS: '500' });
    // The S3 driver: the proxy cuts its TCP connections (the default platform of the e2e specs).
    if (p.s3.driver !== 's3') throw new Error("this spec cuts the S3 driver's connections");
    const endpoint = new URL(p.s3.config.endpoint);
    s3 = await startTcpProxy(endpoint.hostname, Number(endpoint.port));
    // Replace the platform's worker by one whose object store is behind the proxy.
    const first = p.workers[0];
    first.child.kill('SIGTERM');
    await first.exited;
    await p.startWorker({ S3_ENDPOINT: `http://127.0.0.1:${s3.port}` });
    archive = await mnistZip(150);
  });

  afterAll(async () => {
    await p?.stop();
    await s3?.close();
  });

  async function tenant(data: { maxConcurrentJobs?: number } = {}): Promise<{ key: string; id: string }> {
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: `T ${randomBytes(3).toString('hex')}` },
    });
    const id = a.body.tenant.id as string;
    if (data.maxConcurrentJobs !== undefined) await p.system.tenant.update({ where: { id }, data });
    return { key: a.body.apiKey.key as string, id };
  }

  /** Uploads the archive as a new dataset's version; returns the ids the API answered with. */
  async function upload(key: string): Promise<{ datasetId: string; versionId: string; jobId: string }> {
    const ds = await call(p.apiUrl, 'POST', '/v1/datasets', {
      token: key,
      body: { name: 'digits', task: 'image-classification' },
    });
    const form = new FormData();
    form.append('imageSize', '28');
    form.append('channels', '1');
    form.append('file', new Blob([archive], { type: 'application/zip' }), 'digits.zip');
    const res = await fetch(`${p.apiUrl}/v1/datasets/${ds.body.id as string}/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { version: { id: string }; jobId: string };
    return { datasetId: ds.body.id as string, versionId: body.version.id, jobId: body.jobId };
  }

  const version = async (key: string, u: { datasetId: string; versionId: string }) =>
    (await call(p.apiUrl, 'GET', `/v1/datasets/${u.datasetId}/versions/${u.versionId}`, { token: key })).body;
  const job = async (key: string, id: string) =>
    (await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key })).body;
  const ended = (key: string, id: string, timeoutMs = 120_000) => jobEnded(p, key, id, { timeoutMs });
  /** Polls until the worker has moved the version to INGESTING: it is reading the archive now. */
  const ingesting = (key: string, u: { datasetId: string; versionId: string }) =>
    waitFor('version INGESTING', async () => (await version(key, u)).status === 'INGESTING', 60_000, 25);

  it('storage failing mid-ingest: after the retries the job is FAILED and so is the version, with the same reason', async () => {
    const t = await tenant();
    const u = await upload(t.key);
    await ingesting(t.key, u);
    s3.cut();
    let failed;
    try {
      // Five attempts with exponential back-off from 0.5 s: about 8 s of waiting.
      failed = await ended(t.key, u.jobId, 180_000);
    } finally {
      s3.restore();
    }
    expect(failed).toMatchObject({ status: 'FAILED', failureCode: 'RETRIES_EXHAUSTED', attempts: 5 });
    expect(failed.failureReason).toBeTruthy();

    const v = await version(t.key, u);
    expect(v).toMatchObject({
      status: 'FAILED',
      stage: 'failed',
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: failed.failureReason,
    });
    const report = await call(p.apiUrl, 'GET', `/v1/datasets/${u.datasetId}/versions/${u.versionId}/report`, {
      token: t.key,
    });
    expect(report.body).toMatchObject({ status: 'FAILED', failureCode: 'RETRIES_EXHAUSTED', report: null });
    const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${u.jobId}/events`, { token: t.key })).body as {
      type: string;
      message: string | null;
    }[];
    expect(events.filter((e) => e.type === 'log' && /retrying/.test(e.message ?? ''))).toHaveLength(4);
    expect(events[events.length - 1].type).toBe('failed');
    // Training on it is refused with the reason.
    const train = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: t.key,
      body: { task: 'image-classification', datasetVersionId: u.versionId },
    });
    expect(train.status).toBe(422);
    expect(train.body.detail).toContain('FAILED');

    // The storage is back: the platform ingests again.
    const again = await upload(t.key);
    expect((await ended(t.key, again.jobId)).status).toBe('SUCCEEDED');
    expect((await version(t.key, again)).status).toBe('READY');
  });

  it('a job cancelled while queued cancels its version at once', async () => {
    // A tenant whose jobs never start: the ingestion waits QUEUED for a slot.
    const t = await tenant({ maxConcurrentJobs: 0 });
    const u = await upload(t.key);
    await waitFor(
      'job waiting for a slot',
      async () => (await job(t.key, u.jobId)).stage === 'waiting-for-slot',
      60_000,
      100,
    );
    const cancelled = await call(p.apiUrl, 'POST', `/v1/jobs/${u.jobId}/cancel`, { token: t.key });
    expect(cancelled.status).toBeLessThan(300);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(await version(t.key, u)).toMatchObject({
      status: 'CANCELLED',
      stage: 'cancelled',
      failureCode: 'JOB_CANCELLED',
      failureReason: 'the job was cancelled before it started',
    });
    const report = await call(p.apiUrl, 'GET', `/v1/datasets/${u.datasetId}/versions/${u.versionId}/report`, {
      token: t.key,
    });
    expect(report.body).toMatchObject({ status: 'CANCELLED', failureCode: 'JOB_CANCELLED', report: null });
  });

  it('a job cancelled while running ends CANCELLED, and so does its version', async () => {
    const t = await tenant();
    const u = await upload(t.key);
    await ingesting(t.key, u);
    // Hold the ingestion where it is (its storage is gone, which is a transient error: the delivery
    // is retried, not failed as a corrupt archive), so the cancel lands while the job runs.
    s3.cut();
    let done;
    try {
      expect((await job(t.key, u.jobId)).status).toBe('RUNNING');
      const flagged = await call(p.apiUrl, 'POST', `/v1/jobs/${u.jobId}/cancel`, { token: t.key });
      // Running: only flagged; the worker stops it.
      expect(flagged.body).toMatchObject({ status: 'RUNNING' });
      done = await ended(t.key, u.jobId, 60_000);
    } finally {
      s3.restore();
    }
    expect(done.status).toBe('CANCELLED');
    expect(await version(t.key, u)).toMatchObject({
      status: 'CANCELLED',
      stage: 'cancelled',
      failureCode: 'JOB_CANCELLED',
    });
    expect((await version(t.key, u)).failureReason).toMatch(/cancelled/);
  });
});
