import { type DatasetVersionStatus } from '@modelsmith/db';
import { repairStuckDatasetVersions } from './dependents';
import { DatasetVersionStore } from './stores';
import { useJobsTestbed } from '../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

/** A job that ends FAILED or CANCELLED takes what it was building with it, in the same transaction. */
describe('dependent rows of finished jobs, against Postgres', () => {
  const bed = useJobsTestbed();

  const ref = (tenantId: string, jobId: string) => ({ tenantId, jobId });
  const version = (id: string) => bed.system.datasetVersion.findUniqueOrThrow({ where: { id } });

  /** A dataset version in `status` and its ingestion job, as the API creates them. */
  async function ingestion(status: DatasetVersionStatus = 'QUEUED') {
    const t = await bed.tenant();
    const v = await bed.datasetVersion(t.id, { status, stage: status.toLowerCase() });
    const job = await bed.store.create(t.id, {
      kind: 'INGEST_DATASET',
      queue: 'cpu',
      datasetVersionId: v.id,
    });
    return { t, v, job };
  }

  it('a FAILED ingestion job (retries exhausted) fails its INGESTING version with the job code and reason', async () => {
    const { t, v, job } = await ingestion();
    await bed.store.start(ref(t.id, job.id), 'w');
    await bed.system.datasetVersion.update({
      where: { id: v.id },
      data: { status: 'INGESTING', stage: 'ingesting', percent: 40 },
    });
    await bed.store.finish(ref(t.id, job.id), 'FAILED', {
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: 'storage refused the shard upload',
    });
    expect(await version(v.id)).toMatchObject({
      status: 'FAILED',
      stage: 'failed',
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: 'storage refused the shard upload',
      percent: 40,
    });
  });

  it('a job cancelled while QUEUED cancels its version at once', async () => {
    const { t, v, job } = await ingestion();
    await bed.store.requestCancel(t.id, job.id);
    expect(await version(v.id)).toMatchObject({
      status: 'CANCELLED',
      stage: 'cancelled',
      failureCode: 'JOB_CANCELLED',
    });
    expect((await version(v.id)).failureReason).toMatch(/cancelled before it started/);
  });

  it('a RUNNING job is only flagged by a cancel request; its version ends CANCELLED when the job does', async () => {
    const { t, v, job } = await ingestion('INGESTING');
    await bed.store.start(ref(t.id, job.id), 'w');
    await bed.store.requestCancel(t.id, job.id);
    expect((await version(v.id)).status).toBe('INGESTING');
    await bed.store.finish(ref(t.id, job.id), 'CANCELLED', { message: 'cancelled by request' });
    expect(await version(v.id)).toMatchObject({
      status: 'CANCELLED',
      failureCode: 'JOB_CANCELLED',
      failureReason: 'cancelled by request',
    });
  });

  it('leaves a version the handler already finished, and versions of SUCCEEDED or other kinds of jobs, alone', async () => {
    const ready = await ingestion('READY');
    await bed.store.start(ref(ready.t.id, ready.job.id), 'w');
    await bed.store.finish(ref(ready.t.id, ready.job.id), 'FAILED', {
      failureCode: 'X',
      failureReason: 'late',
    });
    expect(await version(ready.v.id)).toMatchObject({ status: 'READY', failureCode: null });

    const ok = await ingestion('INGESTING');
    await bed.store.finish(ref(ok.t.id, ok.job.id), 'SUCCEEDED');
    expect((await version(ok.v.id)).status).toBe('INGESTING');

    // A TRAIN job names the version it trains on; failing it must not touch that version.
    const train = await bed.store.create(ready.t.id, {
      kind: 'TRAIN',
      queue: 'cpu',
      datasetVersionId: ready.v.id,
    });
    await bed.system.datasetVersion.update({ where: { id: ready.v.id }, data: { status: 'QUEUED' } });
    await bed.store.finish(ref(ready.t.id, train.id), 'FAILED', { failureCode: 'X', failureReason: 'boom' });
    expect((await version(ready.v.id)).status).toBe('QUEUED');
  });

  it('a succeeding ingestion turns its version READY in the transaction that records SUCCEEDED, and never after another end', async () => {
    const versions = new DatasetVersionStore(bed.app);
    const ready = {
      format: 'image-folder',
      shardPrefix: 'p/',
      stats: { classes: [{ name: 'a', count: 3 }] },
      report: { kind: 'image' },
    };
    const ok = await ingestion('INGESTING');
    await bed.store.start(ref(ok.t.id, ok.job.id), 'w');
    let seenJob: string | undefined;
    await bed.store.finish(ref(ok.t.id, ok.job.id), 'SUCCEEDED', {
      commit: async (tx) => {
        // Inside the transaction the job row already says SUCCEEDED; outside it, not yet.
        seenJob = (await tx.job.findUniqueOrThrow({ where: { id: ok.job.id } })).status;
        expect((await bed.system.job.findUniqueOrThrow({ where: { id: ok.job.id } })).status).toBe('RUNNING');
        await versions.markReadyIn(tx, ok.v.id, ready);
      },
    });
    expect(seenJob).toBe('SUCCEEDED');
    expect(await version(ok.v.id)).toMatchObject({ status: 'READY', shardPrefix: 'p/', percent: 100 });

    // A commit that throws rolls the SUCCEEDED row back with it.
    const broken = await ingestion('INGESTING');
    await bed.store.start(ref(broken.t.id, broken.job.id), 'w');
    await expect(
      bed.store.finish(ref(broken.t.id, broken.job.id), 'SUCCEEDED', {
        commit: async (tx) => {
          await versions.markReadyIn(tx, broken.v.id, ready);
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    expect((await bed.system.job.findUniqueOrThrow({ where: { id: broken.job.id } })).status).toBe('RUNNING');
    expect((await version(broken.v.id)).status).toBe('INGESTING');

    // A job that already ended (cancelled while queued) is not resurrected, and its commit does not run.
    const late = await ingestion('QUEUED');
    await bed.store.requestCancel(late.t.id, late.job.id);
    let ran = false;
    expect(
      await bed.store.finish(ref(late.t.id, late.job.id), 'SUCCEEDED', {
        commit: async () => {
          ran = true;
        },
      }),
    ).toBeNull();
    expect(ran).toBe(false);
    expect((await version(late.v.id)).status).toBe('CANCELLED');
  });

  describe('repairStuckDatasetVersions', () => {
    /** A version left behind by code before this change: the job ended, the version did not. */
    async function stuck(
      jobStatus: 'FAILED' | 'CANCELLED',
      failure: { failureCode?: string; failureReason?: string } = {},
    ) {
      const { t, v, job } = await ingestion('INGESTING');
      await bed.system.job.update({
        where: { id: job.id },
        data: { status: jobStatus, finishedAt: new Date(), ...failure },
      });
      return { t, v, job };
    }

    it('ends versions stuck behind a FAILED or CANCELLED job with its reason, once', async () => {
      const failed = await stuck('FAILED', {
        failureCode: 'RETRIES_EXHAUSTED',
        failureReason: 'EntityTooLarge: shard upload refused',
      });
      const cancelled = await stuck('CANCELLED');
      const running = await ingestion('INGESTING');
      await bed.store.start(ref(running.t.id, running.job.id), 'w');

      const repaired = await repairStuckDatasetVersions(bed.system);
      expect(repaired).toEqual(expect.arrayContaining([failed.v.id, cancelled.v.id]));
      expect(repaired).not.toContain(running.v.id);
      expect(await version(failed.v.id)).toMatchObject({
        status: 'FAILED',
        stage: 'failed',
        failureCode: 'RETRIES_EXHAUSTED',
        failureReason: 'EntityTooLarge: shard upload refused',
      });
      expect(await version(cancelled.v.id)).toMatchObject({
        status: 'CANCELLED',
        failureCode: 'JOB_CANCELLED',
        failureReason: 'the job was cancelled',
      });
      expect((await version(running.v.id)).status).toBe('INGESTING');

      const updatedAt = (await version(failed.v.id)).updatedAt;
      expect(await repairStuckDatasetVersions(bed.system)).toEqual([]);
      expect((await version(failed.v.id)).updatedAt).toEqual(updatedAt);
    });

    it('waits while a newer ingestion job of the same version is still active', async () => {
      const { t, v } = await stuck('FAILED', { failureCode: 'RETRIES_EXHAUSTED', failureReason: 'x' });
      const retry = await bed.store.create(t.id, {
        kind: 'INGEST_DATASET',
        queue: 'cpu',
        datasetVersionId: v.id,
      });
      expect(await repairStuckDatasetVersions(bed.system)).not.toContain(v.id);
      expect((await version(v.id)).status).toBe('INGESTING');
      // Once that one ends too, its outcome (the latest) is what the version records.
      await bed.system.job.update({
        where: { id: retry.id },
        data: { status: 'CANCELLED', finishedAt: new Date() },
      });
      expect(await repairStuckDatasetVersions(bed.system)).toContain(v.id);
      expect((await version(v.id)).status).toBe('CANCELLED');
    });

    it("never takes an outcome from another tenant's job", async () => {
      const a = await ingestion('INGESTING');
      const b = await bed.tenant();
      // A foreign job row pointing at a's version (the link is a single-column key).
      await bed.system.job.create({
        data: {
          tenantId: b.id,
          kind: 'INGEST_DATASET',
          datasetVersionId: a.v.id,
          status: 'FAILED',
          failureCode: 'EVIL',
          failureReason: 'x',
        },
      });
      await bed.system.job.delete({ where: { id: a.job.id } });
      expect(await repairStuckDatasetVersions(bed.system)).not.toContain(a.v.id);
      expect((await version(a.v.id)).status).toBe('INGESTING');
    });
  });
});
