import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { QUEUES } from '@modelsmith/contracts';
import {
  createPrismaClient,
  createSystemPrismaClient,
  type PrismaClient,
  type SystemPrismaClient,
} from '@modelsmith/db';
import { createTestDatabase, type TestDatabase } from '@modelsmith/db/testing';
import { JobDispatcher, JobStore, redisOptionsFromUrl } from '@modelsmith/jobs';
import { ReconcilerService } from './reconciler.service';

jest.setTimeout(60_000);

describe('ReconcilerService against Postgres and Redis', () => {
  let db: TestDatabase;
  let system: SystemPrismaClient;
  let app: PrismaClient;
  let cpu: Queue;
  let reconciler: ReconcilerService;

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await createSystemPrismaClient(db.url, { poolSize: 2 });
    app = createPrismaClient(db.appUrl, { poolSize: 2 });
    cpu = new Queue(QUEUES.cpu, {
      connection: redisOptionsFromUrl('redis://127.0.0.1:6379'),
      prefix: `msit_${randomBytes(6).toString('hex')}`,
    });
    const store = new JobStore(app, { systemDb: system });
    reconciler = new ReconcilerService(new JobDispatcher({ cpu }, store, system), system);
  });
  afterAll(async () => {
    await cpu?.obliterate({ force: true }).catch(() => undefined);
    await cpu?.close();
    await Promise.all([system?.$disconnect(), app?.$disconnect()]);
    await db?.drop();
  });

  it('ends a dataset version left INGESTING after its ingestion job FAILED, with the job reason, once', async () => {
    // Rows as the platform left them before jobs settled their dependents: the outside tester's case.
    const t = await system.tenant.create({
      data: { name: 't', slug: `t-${randomBytes(4).toString('hex')}` },
    });
    const ds = await system.dataset.create({
      data: { tenantId: t.id, name: 'photos', task: 'IMAGE_CLASSIFICATION' },
    });
    const v = await system.datasetVersion.create({
      data: {
        tenantId: t.id,
        datasetId: ds.id,
        version: 1,
        splitSeed: 42,
        status: 'INGESTING',
        stage: 'ingesting',
        percent: 61,
      },
    });
    await system.job.create({
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
    expect(await system.datasetVersion.findUniqueOrThrow({ where: { id: v.id } })).toMatchObject({
      status: 'FAILED',
      stage: 'failed',
      failureCode: 'RETRIES_EXHAUSTED',
      failureReason: 'S3 refused the upload of shards/train-00003.bin: EntityTooLarge',
    });
    expect(await reconciler.tick()).toEqual({ enqueued: 0, failed: 0, requeued: 0, repairedVersions: 0 });
  });
});
