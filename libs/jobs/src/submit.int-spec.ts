import { InvalidJobInputsError, JOBS } from '@modelsmith/contracts';
import { JobDispatcher } from './dispatcher';
import { QuotaExceededError } from './quota';
import { JobRouter } from './routing';
import { JobSubmitter } from './submit';
import { useJobsTestbed } from '../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

describe('JobSubmitter against Postgres and Redis', () => {
  const bed = useJobsTestbed({ queues: ['cpu'] });
  let submitter: JobSubmitter;

  beforeAll(() => {
    // No gpu queue: 'auto' jobs go to the cpu queue.
    submitter = new JobSubmitter(
      bed.store,
      new JobDispatcher({ cpu: bed.cpu }, bed.store, bed.system),
      new JobRouter({ cpu: bed.cpu }),
    );
  });

  const version = (tenantId: string) => bed.datasetVersion(tenantId);

  it('writes the parsed inputs (defaults applied) and the queued event, then enqueues the row', async () => {
    const t = await bed.tenant();
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
      mode: 'auto',
    });
    expect(job.budget).toEqual({ maxMinutes: 60 });
    expect(job.options).toEqual({ epochs: 3 });
    expect(job.enqueuedAt).toBeInstanceOf(Date);
    expect((await bed.store.events(t.id, job.id)).map((e) => e.type)).toEqual(['queued']);
    expect((await bed.cpu.getJob(job.id))?.name).toBe('training.run@v1');
  });

  it('routes an ingestion like any other job: its payload names the dataset version', async () => {
    const t = await bed.tenant();
    const v = await version(t.id);
    const job = await submitter.submit(t.id, JOBS.ingestDataset, { inputs: { datasetVersionId: v.id } });
    expect(job).toMatchObject({ kind: 'INGEST_DATASET', queue: 'cpu', datasetVersionId: v.id });
    expect((await bed.cpu.getJob(job.id))?.data).toEqual({
      tenantId: t.id,
      jobId: job.id,
      datasetVersionId: v.id,
    });
  });

  it('refuses invalid inputs before writing anything', async () => {
    const t = await bed.tenant();
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
    expect(await bed.system.job.count({ where: { tenantId: t.id } })).toBe(0);
  });

  it('enforces the quota for every kind, ingestion included', async () => {
    const t = await bed.tenant({ computeMinutesPerMonth: 1 });
    const v = await version(t.id);
    const used = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    await bed.system.job.update({
      where: { id: used.id },
      data: { status: 'SUCCEEDED', finishedAt: new Date(), computeSeconds: 120 },
    });
    await expect(
      submitter.submit(t.id, JOBS.ingestDataset, { inputs: { datasetVersionId: v.id } }),
    ).rejects.toThrow(QuotaExceededError);
    expect(await bed.system.job.count({ where: { tenantId: t.id, kind: 'INGEST_DATASET' } })).toBe(0);
  });

  it("lists a tenant's jobs newest first, filtered and paged, never another tenant's", async () => {
    const t = await bed.tenant();
    const v = await version(t.id);
    const a = await submitter.submit(t.id, JOBS.noop, { inputs: {} });
    const b = await submitter.submit(t.id, JOBS.ingestDataset, { inputs: { datasetVersionId: v.id } });
    const c = await submitter.submit(t.id, JOBS.noop, { inputs: {} });
    await submitter.submit((await bed.tenant()).id, JOBS.noop, { inputs: {} });
    // Distinct creation times (rows written within one millisecond would tie and sort by id).
    for (const [i, j] of [a, b, c].entries())
      await bed.system.job.update({
        where: { id: j.id },
        data: { createdAt: new Date(Date.now() - (3 - i) * 1000) },
      });
    expect((await bed.store.list(t.id, {}, 10)).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
    expect((await bed.store.list(t.id, { kind: 'NOOP' }, 10)).map((j) => j.id)).toEqual([c.id, a.id]);
    expect((await bed.store.list(t.id, { datasetVersionId: v.id }, 10)).map((j) => j.id)).toEqual([b.id]);
    expect((await bed.store.list(t.id, {}, 2, c.id)).map((j) => j.id)).toEqual([b.id, a.id]);
    expect(await bed.store.list(t.id, { createdAfter: new Date(Date.now() + 60_000) }, 10)).toEqual([]);
  });
});
