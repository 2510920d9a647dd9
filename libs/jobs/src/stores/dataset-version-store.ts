import { withTenant, type DatasetVersion, type Prisma, type PrismaClient, type Task } from '@modelsmith/db';
import {
  datasetVersionReportSchema,
  datasetVersionStatsSchema,
  storedIngestOptionsSchema,
  type ClassStats,
  type DatasetVersionReport,
  type DatasetVersionStats,
  type StoredIngestOptions,
} from './dataset-version-columns';
import { readColumn } from './stored-json';

/** Fewest training images per class a training job accepts. */
export const MIN_TRAIN_IMAGES_PER_CLASS = 5;

/** A dataset version row with its JSON columns parsed. */
export type TypedDatasetVersion = Omit<DatasetVersion, 'options' | 'stats' | 'report'> & {
  options: StoredIngestOptions;
  stats: DatasetVersionStats | null;
  report: DatasetVersionReport | null;
};

export type TrainableDatasetVersion = TypedDatasetVersion & {
  shardPrefix: string;
  dataset: { name: string; task: Task };
};

/** Why a dataset version cannot be trained on (the caller words it for its audience). */
export type NotTrainable =
  | { reason: 'NOT_FOUND' }
  | { reason: 'TASK_MISMATCH'; version: TypedDatasetVersion; task: Task }
  | { reason: 'NOT_READY'; version: TypedDatasetVersion }
  | { reason: 'TOO_FEW_IMAGES'; version: TypedDatasetVersion; classes: { name: string; train: number }[] };

export type TrainableCheck = { ok: true; version: TrainableDatasetVersion } | ({ ok: false } & NotTrainable);

/** Fields the ingestion writes when a version becomes READY. */
export interface ReadyVersion {
  format: string;
  shardPrefix: string;
  stats: DatasetVersionStats;
  report: Record<string, unknown>;
}

/** Where an uploaded version's source is and how to ingest it. */
export interface VersionSource {
  sourceKey: string;
  sizeBytes: number;
  options: StoredIngestOptions;
  splitSeed: number;
}

function typed(v: DatasetVersion): TypedDatasetVersion {
  const where = (column: string) => ({ table: 'dataset_versions', column, id: v.id });
  return {
    ...v,
    options: readColumn(storedIngestOptionsSchema, v.options, where('options')) ?? {},
    stats: readColumn(datasetVersionStatsSchema, v.stats, where('stats')),
    report: readColumn(datasetVersionReportSchema, v.report, where('report')),
  };
}

const trainImages = (c: ClassStats) => c.splits?.train ?? c.count;

/**
 * Dataset version rows: typed JSON columns (zod-parsed on read, typed on write), the one readiness
 * check for training (API and worker), and the ingestion's state changes. Every method runs inside
 * `withTenant` (row-level security): another tenant's version behaves as absent.
 */
export class DatasetVersionStore {
  constructor(private readonly db: PrismaClient) {}

  async get(tenantId: string, id: string, datasetId?: string): Promise<TypedDatasetVersion | null> {
    const v = await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.findFirst({ where: { id, ...(datasetId ? { datasetId } : {}) } }),
    );
    return v ? typed(v) : null;
  }

  /** The task of the dataset a version belongs to; null when the version or its dataset is gone. */
  async datasetTask(tenantId: string, id: string): Promise<Task | null> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.findUnique({
        where: { id },
        select: { dataset: { select: { task: true, deletedAt: true } } },
      }),
    );
    return row && !row.dataset.deletedAt ? row.dataset.task : null;
  }

  /**
   * Whether a version can be trained on: it exists in a dataset that is not deleted, that dataset is
   * `task` or one of the tasks listed (image classification by default), it is READY with shards, and every class has at least
   * MIN_TRAIN_IMAGES_PER_CLASS training images.
   */
  async checkTrainable(
    tenantId: string,
    id: string,
    task: Task | readonly Task[] = 'IMAGE_CLASSIFICATION',
  ): Promise<TrainableCheck> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.findUnique({
        where: { id },
        include: { dataset: { select: { name: true, task: true, deletedAt: true } } },
      }),
    );
    if (!row || row.dataset.deletedAt) return { ok: false, reason: 'NOT_FOUND' };
    const { dataset, ...rest } = row;
    const version = typed(rest);
    const tasks: readonly Task[] = typeof task === 'string' ? [task] : task;
    if (!tasks.includes(dataset.task))
      return { ok: false, reason: 'TASK_MISMATCH', version, task: dataset.task };
    if (version.status !== 'READY' || !version.shardPrefix)
      return { ok: false, reason: 'NOT_READY', version };
    const small = (version.stats?.classes ?? []).filter((c) => trainImages(c) < MIN_TRAIN_IMAGES_PER_CLASS);
    if (small.length)
      return {
        ok: false,
        reason: 'TOO_FEW_IMAGES',
        version,
        classes: small.map((c) => ({ name: c.name, train: trainImages(c) })),
      };
    return {
      ok: true,
      version: {
        ...version,
        shardPrefix: version.shardPrefix,
        dataset: { name: dataset.name, task: dataset.task },
      },
    };
  }

  /** A new, empty version (UPLOADING) with the next number of its dataset; null when the parent is not in the dataset. */
  async createNext(
    tenantId: string,
    datasetId: string,
    o: { splitSeed: number; parentVersionId?: string },
  ): Promise<TypedDatasetVersion | { parentMissing: true }> {
    return withTenant(this.db, tenantId, async (tx) => {
      await tx.$queryRaw`SELECT id FROM datasets WHERE id = ${datasetId} FOR UPDATE`;
      const last = await tx.datasetVersion.findFirst({
        where: { datasetId },
        orderBy: { version: 'desc' },
        select: { version: true },
      });
      if (
        o.parentVersionId &&
        !(await tx.datasetVersion.findFirst({ where: { id: o.parentVersionId, datasetId } }))
      )
        return { parentMissing: true } as const;
      const v = await tx.datasetVersion.create({
        data: {
          tenantId,
          datasetId,
          version: (last?.version ?? 0) + 1,
          splitSeed: o.splitSeed,
          parentVersionId: o.parentVersionId ?? null,
        },
      });
      return typed(v);
    });
  }

  /** Ingestion options chosen before the source is uploaded (presigned uploads). */
  async setOptions(
    tenantId: string,
    id: string,
    options: StoredIngestOptions,
    splitSeed: number,
  ): Promise<void> {
    await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.update({
        where: { id },
        data: { options: options as Prisma.InputJsonObject, splitSeed },
      }),
    );
  }

  /** The source is uploaded: QUEUED for ingestion. */
  async markQueued(tenantId: string, id: string, s: VersionSource): Promise<TypedDatasetVersion> {
    const v = await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.update({
        where: { id },
        data: {
          status: 'QUEUED',
          stage: 'queued',
          sourceKey: s.sourceKey,
          sizeBytes: BigInt(s.sizeBytes),
          options: s.options as Prisma.InputJsonObject,
          splitSeed: s.splitSeed,
        },
      }),
    );
    return typed(v);
  }

  /** A QUEUED version whose ingestion job was refused ends FAILED with the refusal. */
  async failQueued(tenantId: string, id: string, failureCode: string, failureReason: string): Promise<void> {
    await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.updateMany({
        where: { id, status: 'QUEUED' },
        data: { status: 'FAILED', stage: 'failed', failureCode, failureReason },
      }),
    );
  }

  async delete(tenantId: string, id: string): Promise<void> {
    await withTenant(this.db, tenantId, (tx) => tx.datasetVersion.deleteMany({ where: { id } }));
  }

  async markIngesting(tenantId: string, id: string): Promise<void> {
    await this.update(tenantId, id, { status: 'INGESTING', stage: 'starting', percent: 0 });
  }

  /** Progress, only while INGESTING: a late write must not relabel a version that has already ended. */
  async ingestProgress(tenantId: string, id: string, stage: string, percent: number): Promise<void> {
    await withTenant(this.db, tenantId, (tx) =>
      tx.datasetVersion.updateMany({ where: { id, status: 'INGESTING' }, data: { stage, percent } }),
    );
  }

  /** A worker shutting down hands the ingestion back: the version waits again. */
  async markInterrupted(tenantId: string, id: string): Promise<void> {
    await this.update(tenantId, id, { status: 'QUEUED', stage: 'interrupted' });
  }

  async markReady(tenantId: string, id: string, r: ReadyVersion): Promise<void> {
    await withTenant(this.db, tenantId, (tx) => this.markReadyIn(tx, id, r));
  }

  /**
   * `markReady` inside a caller's tenant-scoped transaction: the ingestion job hands this to
   * `JobStore.finish` so the version turns READY in the transaction that records the job SUCCEEDED.
   */
  async markReadyIn(tx: Prisma.TransactionClient, id: string, r: ReadyVersion): Promise<void> {
    await tx.datasetVersion.update({
      where: { id },
      data: this.readyData(r),
    });
  }

  private readyData(r: ReadyVersion): Prisma.DatasetVersionUpdateInput {
    return {
      status: 'READY',
      stage: 'ready',
      percent: 100,
      format: r.format,
      shardPrefix: r.shardPrefix,
      stats: r.stats as Prisma.InputJsonObject,
      report: r.report as Prisma.InputJsonObject,
      readyAt: new Date(),
    };
  }

  private async update(tenantId: string, id: string, data: Prisma.DatasetVersionUpdateInput): Promise<void> {
    await withTenant(this.db, tenantId, (tx) => tx.datasetVersion.update({ where: { id }, data }));
  }
}
