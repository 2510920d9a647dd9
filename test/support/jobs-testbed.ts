import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { QUEUES, type QueueClass } from '@modelsmith/contracts';
import {
  createPrismaClient,
  createSystemPrismaClient,
  type DatasetVersion,
  type Prisma,
  type PrismaClient,
  type SystemPrismaClient,
  type Task,
} from '@modelsmith/db';
import { createTestDatabase, type TestDatabase } from '@modelsmith/db/testing';
import { JobStore, redisOptionsFromUrl, type ConcurrencyLimits } from '@modelsmith/jobs';

/** Redis of the integration tier. */
export const TEST_REDIS = redisOptionsFromUrl('redis://127.0.0.1:6379');

export interface JobsTestbedOptions {
  /** Queues to open under a fresh prefix (none by default). */
  queues?: readonly QueueClass[];
  /** Pool sizes of the system and app clients (2 and 4 by default). */
  systemPoolSize?: number;
  appPoolSize?: number;
  /** Passed to the JobStore. */
  limits?: ConcurrencyLimits;
}

/**
 * What the jobs integration specs share: a fresh migrated database with a system and an app client,
 * a JobStore over them and, if asked, BullMQ queues under a prefix of their own. Fields are set in
 * beforeAll; afterAll obliterates the queues, disconnects and drops the database.
 */
export interface JobsTestbed {
  db: TestDatabase;
  system: SystemPrismaClient;
  app: PrismaClient;
  store: JobStore;
  /** The BullMQ key prefix of the queues; workers a spec starts must use it too. */
  prefix: string;
  /** The opened queues; reading one that was not asked for throws. */
  readonly cpu: Queue;
  readonly gpu: Queue;
  /** A new tenant with a unique slug. */
  tenant(data?: {
    maxConcurrentJobs?: number;
    computeMinutesPerMonth?: number;
  }): ReturnType<SystemPrismaClient['tenant']['create']>;
  /**
   * A dataset (name 'd', an image classification one unless `dataset` says otherwise) and its
   * version 1 (split seed 42, QUEUED unless `version` says otherwise), written as the system.
   */
  datasetVersion(
    tenantId: string,
    version?: Omit<Partial<Prisma.DatasetVersionUncheckedCreateInput>, 'tenantId' | 'datasetId'>,
    dataset?: { name?: string; task?: Task },
  ): Promise<DatasetVersion>;
}

/** Registers the beforeAll/afterAll hooks of a JobsTestbed in the calling describe block. */
export function useJobsTestbed(opts: JobsTestbedOptions = {}): JobsTestbed {
  const queues: Partial<Record<QueueClass, Queue>> = {};
  const opened = (name: QueueClass): Queue => {
    const q = queues[name];
    if (!q) throw new Error(`useJobsTestbed: queue '${name}' was not asked for (or read before beforeAll)`);
    return q;
  };
  const bed = {
    prefix: `msit_${randomBytes(6).toString('hex')}`,
    get cpu() {
      return opened('cpu');
    },
    get gpu() {
      return opened('gpu');
    },
    tenant: (data = {}) =>
      bed.system.tenant.create({ data: { name: 't', slug: `t-${randomBytes(5).toString('hex')}`, ...data } }),
    datasetVersion: async (tenantId, version = {}, dataset = {}) => {
      const ds = await bed.system.dataset.create({
        data: { tenantId, name: dataset.name ?? 'd', task: dataset.task ?? 'IMAGE_CLASSIFICATION' },
      });
      return bed.system.datasetVersion.create({
        data: { version: 1, splitSeed: 42, status: 'QUEUED', ...version, tenantId, datasetId: ds.id },
      });
    },
  } as JobsTestbed;

  beforeAll(async () => {
    bed.db = await createTestDatabase();
    bed.system = await createSystemPrismaClient(bed.db.url, { poolSize: opts.systemPoolSize ?? 2 });
    bed.app = createPrismaClient(bed.db.appUrl, { poolSize: opts.appPoolSize ?? 4 });
    bed.store = new JobStore(bed.app, {
      systemDb: bed.system,
      ...(opts.limits ? { limits: opts.limits } : {}),
    });
    for (const name of opts.queues ?? []) {
      queues[name] = new Queue(QUEUES[name], { connection: TEST_REDIS, prefix: bed.prefix });
    }
  });
  afterAll(async () => {
    for (const q of Object.values(queues)) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    await Promise.all([bed.system?.$disconnect(), bed.app?.$disconnect()]);
    await bed.db?.drop();
  });
  return bed;
}
