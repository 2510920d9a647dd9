import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { InvalidJobInputsError, JOBS, QUEUES } from '@modelsmith/contracts';
import {
  createPrismaClient,
  createSystemPrismaClient,
  type PrismaClient,
  type SystemPrismaClient,
} from '@modelsmith/db';
import { createTestDatabase, type TestDatabase } from '@modelsmith/db/testing';
import { JobDispatcher } from './dispatcher';
import { JobStore } from './job-store';
import { QuotaExceededError } from './quota';
import { redisOptionsFromUrl } from './redis';
import { JobRouter } from './routing';
import { JobSubmitter } from './submit';

jest.setTimeout(60_000);

const connection = redisOptionsFromUrl('redis://127.0.0.1:6379');

describe('JobSubmitter against Postgres and Redis', () => {
  let db: TestDatabase;
  let system: SystemPrismaClient;
  let app: PrismaClient;
  let store: JobStore;
  let cpu: Queue;
  let submitter: JobSubmitter;

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await createSystemPrismaClient(db.url, { poolSize: 2 });
    app = createPrismaClient(db.appUrl, { poolSize: 4 });
    store = new JobStore(app, { systemDb: system });
    cpu = new Queue(QUEUES.cpu, { connection, prefix: `msit_${randomBytes(6).toString('hex')}` });
    // No gpu queue: 'auto' jobs go to the cpu queue.
    submitter = new JobSubmitter(store, new JobDispatcher({ cpu }, store, system), new JobRouter({ cpu }));
  });
  afterAll(async () => {
    await cpu?.obliterate({ force: true }).catch(() => undefined);
    await cpu?.close();
    await Promise.all([system?.$disconnect(), app?.$disconnect()]);
    await db?.drop();
  });

  const tenant = (over: { computeMinutesPerMonth?: number } = {}) =>
    system.tenant.create({ data: { name: 't', slug: `t-${randomBytes(5).toString('hex')}`, ...over } });

  async function version(tenantId: string) {
    const ds = await system.dataset.create({ data: { tenantId, name: 'd', task: 'IMAGE_CLASSIFICATION' } });
    return system.datasetVersion.create({
      data: { tenantId, datasetId: ds.id, version: 1, splitSeed: 42, status: 'QUEUED' },
    });
  }

  it('writes the parsed inputs (defaults applied) and the queued event, then enqueues the row', async () => {
    const t = await tenant();
    const v = await version(t.id);
    const job = await submitter.submit(t.id, JOBS.train, {
      priority: 5,
      inputs: { datasetVersionId: v.id, options: { epochs: 3 } },
    });
    expect(job).toMatchObject({
      kind: 'TRAIN',
      queue: 'cpu',
      priority: 5,
      datasetVersionId: v.id,
      mode: 'balanced',
    });
    expect(job.budget).toEqual({ maxMinutes: 60, maxTrials: 1 });
    expect(job.options).toEqual({ epochs: 3 });
    expect(job.enqueuedAt).toBeInstanceOf(Date);
    expect((await store.events(t.id, job.id)).map((e) => e.type)).toEqual(['queued']);
    expect((await cpu.getJob(job.id))?.name).toBe('training.run@v1');
  });

  it('routes an ingestion like any other job: its payload names the dataset version', async () => {
    const t = await tenant();
    const v = await version(t.id);
    const job = await submitter.submit(t.id, JOBS.ingestDataset, { inputs: { datasetVersionId: v.id } });
    expect(job).toMatchObject({ kind: 'INGEST_DATASET', queue: 'cpu', datasetVersionId: v.id });
    expect((await cpu.getJob(job.id))?.data).toEqual({
      tenantId: t.id,
      jobId: job.id,
      datasetVersionId: v.id,
    });
  });

  it('refuses invalid inputs before writing anything', async () => {
    const t = await tenant();
    const v = await version(t.id);
    await expect(
      submitter.submit(t.id, JOBS.train, {
        inputs: { datasetVersionId: v.id, budget: { maxMinutes: 0, maxTrials: 1 } },
      }),
    ).rejects.toThrow(InvalidJobInputsError);
    await expect(
      submitter.submit(t.id, JOBS.batchPredict, {
        inputs: { modelId: 'm', options: { inputKey: '', inputName: 'a.zip', inputSize: 1 } },
      }),
    ).rejects.toThrow(/inputKey/);
    expect(await system.job.count({ where: { tenantId: t.id } })).toBe(0);
  });

  it('enforces the quota for every kind, ingestion included', async () => {
    const t = await tenant({ computeMinutesPerMonth: 1 });
    const v = await version(t.id);
    const used = await store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    await system.job.update({
      where: { id: used.id },
      data: { status: 'SUCCEEDED', finishedAt: new Date(), computeSeconds: 120 },
    });
    await expect(
      submitter.submit(t.id, JOBS.ingestDataset, { inputs: { datasetVersionId: v.id } }),
    ).rejects.toThrow(QuotaExceededError);
    expect(await system.job.count({ where: { tenantId: t.id, kind: 'INGEST_DATASET' } })).toBe(0);
  });

  it("lists a tenant's jobs newest first, filtered and paged, never another tenant's", async () => {
    const t = await tenant();
    const v = await version(t.id);
    const a = await submitter.submit(t.id, JOBS.noop, { inputs: {} });
    const b = await submitter.submit(t.id, JOBS.ingestDataset, { inputs: { datasetVersionId: v.id } });
    const c = await submitter.submit(t.id, JOBS.noop, { inputs: {} });
    await submitter.submit((await tenant()).id, JOBS.noop, { inputs: {} });
    // Distinct creation times (rows written within one millisecond would tie and sort by id).
    for (const [i, j] of [a, b, c].entries())
      await system.job.update({
        where: { id: j.id },
        data: { createdAt: new Date(Date.now() - (3 - i) * 1000) },
      });
    expect((await store.list(t.id, {}, 10)).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect((await store.list(t.id, { kind: 'NOOP' }, 10)).map((j) => j.id)).toEqual([c.id, a.id]);
    expect((await store.list(t.id, { datasetVersionId: v.id }, 10)).map((j) => j.id)).toEqual([b.id]);
    expect((await store.list(t.id, {}, 2, c.id)).map((j) => j.id)).toEqual([b.id, a.id]);
    expect(await store.list(t.id, { createdAfter: new Date(Date.now() + 60_000) }, 10)).toEqual([]);
  });
});
