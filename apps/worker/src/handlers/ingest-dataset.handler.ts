import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOBS, type PayloadOf } from '@modelsmith/contracts';
import { APP_PRISMA, Prisma, withTenant, type PrismaClient } from '@modelsmith/db';
import {
  INDEX_KEY,
  ingest,
  IngestionError,
  isIngestionError,
  loadShardIndex,
  REPORT_KEY,
  type IngestOptions,
  type IngestProgress,
  type IngestResult,
} from '@modelsmith/datasets';
import { JobInterruptedError, PermanentJobError } from '@modelsmith/jobs';
import { keys, OBJECT_STORE, type ObjectStore } from '@modelsmith/storage';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';
import { objectByteSource, objectShardSink, objectShardSource } from '../adapters/object-store-io';
import { IncompatibleParentError, mergedReport, mergeWithParent } from './dataset-merge';
import { writePreviews } from './dataset-previews';

type Payload = PayloadOf<'ingestDataset'>;

const STAGE_LABEL: Record<IngestProgress['stage'], string> = {
  detect: 'detecting format',
  scan: 'scanning',
  ingest: 'ingesting',
  finalize: 'finalizing',
};

/**
 * Reads an uploaded dataset version from the object store, validates and preprocesses it into shards
 * (libs/datasets), writes thumbnails for the preview, and marks the version READY with its report.
 * An ingestion error fails the job for good (DATASET_<CODE>); the version then becomes FAILED with the
 * job's code and message in the transaction that records the job FAILED (as after exhausted retries or
 * a cancellation: see settleDependents). Re-running a finished version is a no-op.
 */
@Injectable()
@HandlesJob(JOBS.ingestDataset)
export class IngestDatasetHandler implements JobHandler<Payload> {
  private readonly logger = new Logger('IngestDataset');

  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async handle(ctx: JobContext<Payload>): Promise<Record<string, unknown>> {
    const { tenantId, datasetVersionId } = ctx.payload;
    const version = await withTenant(this.db, tenantId, (tx) => tx.datasetVersion.findUnique({ where: { id: datasetVersionId } }));
    if (!version) throw new PermanentJobError('DATASET_VERSION_NOT_FOUND', `dataset version ${datasetVersionId} does not exist`);
    if (version.status === 'READY') return { datasetVersionId, alreadyReady: true };
    if (!version.sourceKey) throw new PermanentJobError('DATASET_SOURCE_MISSING', 'the dataset version has no uploaded file');
    const stat = await this.store.stat(version.sourceKey);
    if (!stat) throw new PermanentJobError('DATASET_SOURCE_MISSING', 'the uploaded file is no longer in the object store');

    // Shards, index.json and report.json of this version live under one prefix (index.json is the commit marker).
    const shardPrefix = `${keys.datasetVersion(tenantId, version.datasetId, version.id)}ingested/`;
    // A previous attempt may have died half way: start from a clean prefix so nothing partial is reused.
    await this.store.deletePrefix(shardPrefix);
    await this.setVersion(tenantId, datasetVersionId, { status: 'INGESTING', stage: 'starting', percent: 0 });

    const fileName = version.sourceKey.slice(version.sourceKey.lastIndexOf('/') + 1);
    const source = objectByteSource(this.store, version.sourceKey, stat.size, fileName, stat.contentType ?? undefined);
    const options = { ...(version.options as IngestOptions), keyPrefix: shardPrefix, split: { ...((version.options as IngestOptions).split ?? {}), seed: version.splitSeed }, signal: ctx.signal };

    let lastWrite = 0;
    const onProgress = (p: IngestProgress) => {
      const now = Date.now();
      if (now - lastWrite < 1_000 && p.percent !== 100) return;
      lastWrite = now;
      const percent = p.percent ?? 0;
      const stage = STAGE_LABEL[p.stage];
      void Promise.all([
        ctx.progress({ stage, percent: percent * 0.95, data: { entriesProcessed: p.entriesProcessed, entriesTotal: p.entriesTotal ?? null } }),
        // Conditional: a late write must not relabel a version that has already ended.
        withTenant(this.db, tenantId, (tx) => tx.datasetVersion.updateMany({ where: { id: datasetVersionId, status: 'INGESTING' }, data: { stage, percent } })),
      ]).catch((e: unknown) => this.logger.warn(`progress not recorded: ${String(e)}`));
    };

    try {
      let result = await ingest(source, options, objectShardSink(this.store), onProgress);
      ctx.throwIfStopped();
      if (version.parentVersionId) result = await this.mergeParent(tenantId, version.parentVersionId, shardPrefix, result);
      await ctx.progress({ stage: 'previews', percent: 96 });
      const previews = result.index.kind === 'image' ? await writePreviews(this.store, result.index, tenantId, version.datasetId, version.id) : 0;
      const { report } = result;
      const stats = {
        kind: report.kind,
        format: report.format,
        samples: report.totals.samples,
        classes: report.classes.map((c) => ({ name: c.name, count: c.count, splits: c.splits })),
        splits: report.splits,
        skipped: report.totals.skipped,
        duplicates: report.totals.duplicates,
        labelConflicts: report.totals.labelConflicts,
        imbalanceRatio: report.imbalanceRatio,
        warnings: report.warnings.length,
        previews,
      };
      ctx.throwIfStopped();
      await this.setVersion(tenantId, datasetVersionId, {
        status: 'READY',
        stage: 'ready',
        percent: 100,
        format: report.format,
        shardPrefix,
        stats: stats,
        report: report as unknown as Prisma.InputJsonValue,
        readyAt: new Date(),
      });
      return { datasetVersionId, samples: report.totals.samples, classes: report.classes.length, warnings: report.warnings.length };
    } catch (e) {
      // The version's final state is written with the job's (JobStore.finish, one transaction): FAILED
      // with the job's failure code and reason, or CANCELLED. Only a shutdown, after which the job
      // resumes elsewhere, sends the version back to the queue here.
      if (ctx.signal.aborted) {
        if (ctx.signal.reason instanceof JobInterruptedError) {
          await this.setVersion(tenantId, datasetVersionId, { status: 'QUEUED', stage: 'interrupted' }).catch(() => undefined);
        }
        throw ctx.signal.reason;
      }
      // The archive could not be read because the object store failed (not because the file is bad):
      // transient, so the delivery is retried.
      if (source.storageFailure) throw source.storageFailure;
      if (isIngestionError(e)) {
        await this.store.deletePrefix(shardPrefix).catch(() => 0);
        throw new PermanentJobError(`DATASET_${e.code.toUpperCase()}`, e.message);
      }
      throw e;
    }
  }

  /** Adds the parent version's samples to this one and rewrites the index (the commit marker) last. */
  private async mergeParent(tenantId: string, parentId: string, shardPrefix: string, result: IngestResult): Promise<IngestResult> {
    const parent = await withTenant(this.db, tenantId, (tx) => tx.datasetVersion.findUnique({ where: { id: parentId } }));
    if (!parent || parent.status !== 'READY' || !parent.shardPrefix) {
      throw new IngestionError('invalid_options', `parent version ${parentId} is not READY; a version can only extend a ready one`, { field: 'parentVersionId' });
    }
    const parentIndex = await loadShardIndex(objectShardSource(this.store), parent.shardPrefix);
    if (parentIndex.kind !== 'image' || result.index.kind !== 'image') {
      throw new IngestionError('invalid_options', 'only image datasets can extend a parent version today', { field: 'parentVersionId' });
    }
    let merged;
    try {
      merged = mergeWithParent(parentIndex, result.index, parentId);
    } catch (e) {
      if (e instanceof IncompatibleParentError) throw new IngestionError('invalid_options', e.message, { field: 'imageSize' });
      throw e;
    }
    const report = mergedReport(result.report, merged.index, merged.summary);
    await this.store.putBytes(`${shardPrefix}${REPORT_KEY}`, Buffer.from(JSON.stringify(report, null, 2)), 'application/json');
    await this.store.putBytes(`${shardPrefix}${INDEX_KEY}`, Buffer.from(JSON.stringify(merged.index)), 'application/json');
    return { ...result, index: merged.index, report };
  }

  private async setVersion(tenantId: string, id: string, data: Prisma.DatasetVersionUpdateInput): Promise<void> {
    await withTenant(this.db, tenantId, (tx) => tx.datasetVersion.update({ where: { id }, data }));
  }
}
