import { keys } from '@modelsmith/storage';
import { call, startPlatform, waitFor, type Platform } from '../support/platform';
import { jobEnded } from '../support/jobs';
import { mnistZip } from '../support/archives';
import { readyDataset } from '../support/datasets';

jest.setTimeout(900_000);

/** Fault tolerance with real processes: a worker killed or stopped mid-training, its job resumed elsewhere. */
describe('training survives worker loss', () => {
  let p: Platform;
  let key: string;
  let versionId: string;
  let tenantId: string;

  beforeAll(async () => {
    // A SIGKILLed worker's job goes to another worker once its queue lock expires: a 10 s lock
    // (renewed every 5 s) instead of the default 30 s, so the test waits ~10 s for it, not ~30 s.
    p = await startPlatform({ WORKER_LOCK_DURATION_MS: '10000' });
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Faults' },
    });
    key = a.body.apiKey.key;
    tenantId = a.body.tenant.id;
    versionId = await readyDataset(p, key, await mnistZip(20), { imageSize: '28', channels: '1' });
  });

  afterAll(async () => {
    await p?.stop();
  });

  async function startTraining(): Promise<string> {
    const r = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      // Long enough that the worker is still training when the test stops it (an epoch takes well
      // under a second here), and no early stopping, so the epoch count is known.
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'fast',
        options: { epochs: 16, earlyStopping: false },
      },
    });
    expect(r.status).toBe(202);
    return r.body.id as string;
  }

  /** Waits until the job has finished `epochs` epochs (each ends with a checkpoint in the object store). */
  function epochsDone(id: string, epochs: number) {
    return waitFor(
      `${epochs} epoch(s) of ${id}`,
      async () => {
        const r = await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key });
        return r.body.filter((e: { type: string }) => e.type === 'metrics').length >= epochs;
      },
      300_000,
      250,
    );
  }

  function finished(id: string) {
    return jobEnded(p, key, id, { what: 'job to finish', timeoutMs: 600_000 });
  }

  it('resumes from the last checkpoint after the worker is SIGKILLed, ending with exactly one model', async () => {
    const id = await startTraining();
    await epochsDone(id, 2);
    const victim = p.workers[p.workers.length - 1];
    victim.child.kill('SIGKILL');
    await victim.exited;
    await p.startWorker();
    const job = await finished(id);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    // Resumed from a checkpoint at or after the second epoch, not from scratch.
    expect(job.result.resumedFrom.globalStep).toBeGreaterThan(0);
    expect(job.result.epochs).toBe(16);
    expect(await p.system.model.count({ where: { jobId: id } })).toBe(1);
    const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key })).body;
    const epochMessages = events
      .filter((e: { type: string }) => e.type === 'metrics')
      .map((e: { message: string }) => e.message);
    expect(new Set(epochMessages).size).toBe(epochMessages.length);
    // Checkpoints are deleted once the job is recorded SUCCEEDED (not before: a crash in between
    // would have retrained from scratch).
    await waitFor(
      'checkpoints deleted',
      async () => {
        let left = 0;
        for await (const _ of p.s3.store.list(keys.jobCheckpointsPrefix(tenantId, id))) left++;
        return left === 0;
      },
      30_000,
      250,
    );
  });

  it('on SIGTERM checkpoints, hands the job back to the queue and exits cleanly; another worker finishes it', async () => {
    const id = await startTraining();
    await epochsDone(id, 1);
    const worker = p.workers[p.workers.length - 1];
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key })).body;
    expect(events.map((e: { type: string }) => e.type)).toContain('requeued');
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key })).body.status).toBe('QUEUED');
    await p.startWorker();
    const job = await finished(id);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.result.resumedFrom.globalStep).toBeGreaterThan(0);
    expect(await p.system.model.count({ where: { jobId: id } })).toBe(1);
  });
});
