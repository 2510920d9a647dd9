import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOBS } from '@modelsmith/contracts';
import {
  DATASET_FORMATS,
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
import {
  DatasetVersionStore,
  JobInterruptedError,
  PermanentJobError,
  type StoredIngestOptions,
} from '@modelsmith/jobs';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';
import { objectByteSource, objectShardSink, objectShardSource } from '../adapters/object-store-io';
import { IncompatibleParentError, mergedReport, mergeWithParent } from './dataset-merge';
import { writePreviews } from './dataset-previews';

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
export class IngestDatasetHandler implements JobHandler<typeof JOBS.ingestDataset> {
  private readonly logger = new Logger('IngestDataset');

  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly versions: DatasetVersionStore,
  ) {}

  async handle(ctx: JobContext<typeof JOBS.ingestDataset>): Promise<Record<string, unknown>> {
    const { tenantId, datasetVersionId } = ctx.payload;
    const version = await this.versions.get(tenantId, datasetVersionId);
    if (!version)
      throw new PermanentJobError(
        'DATASET_VERSION_NOT_FOUND',
        `dataset version ${datasetVersionId} does not exist`,
      );
    if (version.status === 'READY') return { datasetVersionId, alreadyReady: true };
    if (!version.sourceKey)
      throw new PermanentJobError('DATASET_SOURCE_MISSING', 'the dataset version has no uploaded file');
    const stat = await this.store.stat(version.sourceKey);
    if (!stat)
      throw new PermanentJobError(
        'DATASET_SOURCE_MISSING',
        'the uploaded file is no longer in the object store',
      );

    // Shards, index.json and report.json of this version live under one prefix (index.json is the commit marker).
    const shardPrefix = keys.datasetIngestedPrefix(tenantId, version.datasetId, version.id);
    // A previous attempt may have died half way: start from a clean prefix so nothing partial is reused.
    await this.store.deletePrefix(shardPrefix);
    await this.versions.markIngesting(tenantId, datasetVersionId);

    const fileName = version.sourceKey.slice(version.sourceKey.lastIndexOf('/') + 1);
    const source = objectByteSource(
      this.store,
      version.sourceKey,
      stat.size,
      fileName,
      stat.contentType ?? undefined,
    );
    const options: IngestOptions = {
      ...ingestOptionsOf(version.options),
      keyPrefix: shardPrefix,
      split: { seed: version.splitSeed },
      signal: ctx.signal,
    };

    let lastWrite = 0;
    const onProgress = (p: IngestProgress) => {
      const now = Date.now();
      if (now - lastWrite < 1_000 && p.percent !== 100) return;
      lastWrite = now;
      const percent = p.percent ?? 0;
      const stage = STAGE_LABEL[p.stage];
      void Promise.all([
        ctx.progress({
          stage,
          percent: percent * 0.95,
          data: { entriesProcessed: p.entriesProcessed, entriesTotal: p.entriesTotal ?? null },
        }),
        // Conditional: a late write must not relabel a version that has already ended.
        this.versions.ingestProgress(tenantId, datasetVersionId, stage, percent),
      ]).catch((e: unknown) => this.logger.warn(`progress not recorded: ${String(e)}`));
    };

    try {
      let result = await ingest(source, options, objectShardSink(this.store), onProgress);
      ctx.throwIfStopped();
      if (version.parentVersionId)
        result = await this.mergeParent(tenantId, version.parentVersionId, shardPrefix, result);
      await ctx.progress({ stage: 'previews', percent: 96 });
      const previews =
        result.index.kind === 'image'
          ? await writePreviews(this.store, result.index, tenantId, version.datasetId, version.id)
          : 0;
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
      // READY lands with the job's SUCCEEDED, in one transaction: a client that sees the version ready
      // sees its job done.
      const ready = { format: report.format, shardPrefix, stats, report: { ...report } };
      ctx.commitOnSuccess((tx) => this.versions.markReadyIn(tx, datasetVersionId, ready));
      return {
        datasetVersionId,
        samples: report.totals.samples,
        classes: report.classes.length,
        warnings: report.warnings.length,
      };
    } catch (e) {
      // The version's final state is written with the job's (JobStore.finish, one transaction): FAILED
      // with the job's failure code and reason, or CANCELLED. Only a shutdown, after which the job
      // resumes elsewhere, sends the version back to the queue here.
      if (ctx.signal.aborted) {
        if (ctx.signal.reason instanceof JobInterruptedError) {
          await this.versions.markInterrupted(tenantId, datasetVersionId).catch(() => undefined);
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
  private async mergeParent(
    tenantId: string,
    parentId: string,
    shardPrefix: string,
    result: IngestResult,
  ): Promise<IngestResult> {
    const parent = await this.versions.get(tenantId, parentId);
    if (!parent || parent.status !== 'READY' || !parent.shardPrefix) {
      throw new IngestionError(
        'invalid_options',
        `parent version ${parentId} is not READY; a version can only extend a ready one`,
        { field: 'parentVersionId' },
      );
    }
    const parentIndex = await loadShardIndex(objectShardSource(this.store), parent.shardPrefix);
    if (parentIndex.kind !== 'image' || result.index.kind !== 'image') {
      throw new IngestionError('invalid_options', 'only image datasets can extend a parent version today', {
        field: 'parentVersionId',
      });
    }
    let merged;
    try {
      merged = mergeWithParent(parentIndex, result.index, parentId);
    } catch (e) {
      if (e instanceof IncompatibleParentError)
        throw new IngestionError('invalid_options', e.message, { field: 'imageSize' });
      throw e;
    }
    const report = mergedReport(result.report, merged.index, merged.summary);
    await this.store.putBytes(
      keys.within(shardPrefix, REPORT_KEY),
      Buffer.from(JSON.stringify(report, null, 2)),
      'application/json',
    );
    await this.store.putBytes(
      keys.within(shardPrefix, INDEX_KEY),
      Buffer.from(JSON.stringify(merged.index)),
      'application/json',
    );
    return { ...result, index: merged.index, report };
  }
}

/** The stored ingestion options in libs/datasets' form (the API wrote them from validated fields). */
function ingestOptionsOf(o: StoredIngestOptions): IngestOptions {
  const format = DATASET_FORMATS.find((f) => f === o.format);
  return {
    ...(format ? { format } : {}),
    ...(o.target !== undefined ? { target: o.target } : {}),
    ...(o.textColumn !== undefined ? { textColumn: o.textColumn } : {}),
    ...(o.labelColumn !== undefined ? { labelColumn: o.labelColumn } : {}),
    ...(o.splitColumn !== undefined ? { splitColumn: o.splitColumn } : {}),
    ...(o.image ? { image: o.image } : {}),
  };
}
