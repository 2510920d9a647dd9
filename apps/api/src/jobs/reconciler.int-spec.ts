import { JobDispatcher } from '@modelsmith/jobs';
import { ReconcilerService } from './reconciler.service';
import { useJobsTestbed } from '../../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

describe('ReconcilerService against Postgres and Redis', () => {
  const bed = useJobsTestbed({ queues: ['cpu'], appPoolSize: 2 });
  let reconciler: ReconcilerService;

  beforeAll(() => {
    reconciler = new ReconcilerService(
      new JobDispatcher({ cpu: bed.cpu }, bed.store, bed.system),
      bed.system,
    );
  });

  it('ends a dataset version left INGESTING after its ingestion job FAILED, with the job reason, once', async () => {
    // Rows as the platform left them before jobs settled their dependents: the outside tester's case.
    const t = await bed.tenant();
    const v = await bed.datasetVersion(t.id, { status: 'INGESTING', stage: 'ingesting', percent: 61 });
    await bed.system.job.create({
      data: {
        tenantId: t.id,
        kind: 'INGEST_DATASET',
        datasetVersionId: v.id,
        status: 'FAILED',
        enqueuedAt: new Date(),
        finishedAt: new Date(),
        failureCode: 'RETRIES_EXHAUSTED',
        failureReason: 'S3 refused the upload of shards/train-00003.bin: EntityTooLarge',
      },
    });

    expect(await reconciler.tick()).toEqual({ enqueued: 0, failed: 0, requeued: 0, repairedVersions: 1 });
    expect(await bed.system.datasetVersion.findUniqueOrThrow({ where: { id: v.id } })).toMatchObject({
      status: 'FAILED',
      stage: 'failed',
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: 'S3 refused the upload of shards/train-00003.bin: EntityTooLarge',
    });
    expect(await reconciler.tick()).toEqual({ enqueued: 0, failed: 0, requeued: 0, repairedVersions: 0 });
  });
});
