import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { withTenant, type Dataset, type DatasetVersion, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import { DatasetVersionStore, type StoredIngestOptions, type TypedDatasetVersion } from '@modelsmith/jobs';
import { JOBS } from '@modelsmith/contracts';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { emptyFileProblem, notFound, ProblemError } from '@modelsmith/http';
import { page, type Page } from '../common/pagination';
import { taskToEnum, type CreateDatasetDto } from './dto/dataset.dto';
import { parseIngestOptions, toStoredOptions, type IngestOptionsInput } from './dto/ingest-options';
import { streamMultipartUpload } from './multipart-upload';
import { sourceFileName } from './source-file-name';
import { completionProblem, uploadPartSize } from './upload-parts';
import { JobsService } from '../jobs/jobs.service';

export const DEFAULT_SPLIT_SEED = 42;

@Injectable()
export class DatasetsService {
  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly versions: DatasetVersionStore,
  ) {}

  create(tenantId: string, body: CreateDatasetDto): Promise<Dataset> {
    return withTenant(this.db, tenantId, (tx) =>
      tx.dataset.create({
        data: {
          tenantId,
          name: body.name,
          task: taskToEnum(body.task),
          description: body.description ?? null,
        },
      }),
    );
  }

  list(
    tenantId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<Dataset & { versions: DatasetVersion[] }>> {
    return withTenant(this.db, tenantId, async (tx) => {
      const rows = await tx.dataset.findMany({
        where: { deletedAt: null },
        include: { versions: { orderBy: { version: 'desc' }, take: 1 } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      });
      return page(rows, limit);
    });
  }

  async get(tenantId: string, id: string): Promise<Dataset & { versions: DatasetVersion[] }> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      tx.dataset.findFirst({
        where: { id, deletedAt: null },
        include: { versions: { orderBy: { version: 'desc' } } },
      }),
    );
    if (!row) throw notFound('dataset', id);
    return row;
  }

  /** Deletes the dataset's objects (sources, shards, previews), then its rows. */
  async delete(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.store.deletePrefix(keys.dataset(tenantId, id));
    await withTenant(this.db, tenantId, (tx) => tx.dataset.delete({ where: { id } }));
  }

  async version(tenantId: string, datasetId: string, versionId: string): Promise<TypedDatasetVersion> {
    const v = await this.versions.get(tenantId, versionId, datasetId);
    if (!v) throw notFound('dataset version', versionId);
    return v;
  }

  /**
   * The suspected mislabeled samples of the newest READY model trained on the version (its report's
   * `labelQuality`, training dynamics), with the model's id; null when no such model has them.
   */
  async labelQuality(tenantId: string, versionId: string): Promise<Record<string, unknown> | null> {
    const models = await withTenant(this.db, tenantId, (tx) =>
      tx.model.findMany({
        where: { datasetVersionId: versionId, status: 'READY' },
        orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
        take: 5,
        select: { id: true, report: true },
      }),
    );
    for (const m of models) {
      const lq = (m.report as { labelQuality?: unknown } | null)?.labelQuality;
      if (lq && typeof lq === 'object') return { modelId: m.id, ...(lq as Record<string, unknown>) };
    }
    return null;
  }

  private async uploadLimit(tenantId: string): Promise<bigint> {
    const tenant = await withTenant(this.db, tenantId, (tx) =>
      tx.tenant.findUnique({ where: { id: tenantId }, select: { maxUploadBytes: true } }),
    );
    return tenant?.maxUploadBytes ?? 0n;
  }

  /** A new, empty version row (UPLOADING) with the next number; immutable once READY. */
  private async newVersion(
    tenantId: string,
    datasetId: string,
    parentVersionId?: string,
  ): Promise<TypedDatasetVersion> {
    const v = await this.versions.createNext(tenantId, datasetId, {
      splitSeed: DEFAULT_SPLIT_SEED,
      parentVersionId,
    });
    if ('parentMissing' in v) throw notFound('parent dataset version', parentVersionId ?? '');
    return v;
  }

  private async discardVersion(
    tenantId: string,
    version: Pick<DatasetVersion, 'id' | 'datasetId'>,
  ): Promise<void> {
    await this.store
      .deletePrefix(keys.datasetVersion(tenantId, version.datasetId, version.id))
      .catch(() => 0);
    await this.versions.delete(tenantId, version.id).catch(() => undefined);
  }

  /**
   * Marks the uploaded version QUEUED and submits its ingestion job (quota, `queued` event, then the
   * queue). A refused job (quota, too many active jobs) leaves the version FAILED with the refusal's
   * code and reason, never waiting for a job that does not exist.
   */
  private async startIngestion(
    tenantId: string,
    versionId: string,
    sourceKey: string,
    size: number,
    options: StoredIngestOptions,
    splitSeed: number,
  ): Promise<{ version: TypedDatasetVersion; jobId: string }> {
    const version = await this.versions.markQueued(tenantId, versionId, {
      sourceKey,
      sizeBytes: size,
      options,
      splitSeed,
    });
    try {
      const job = await this.jobs.submit(tenantId, JOBS.ingestDataset, {
        inputs: { datasetVersionId: versionId },
      });
      return { version, jobId: job.id };
    } catch (e) {
      const code = e instanceof ProblemError ? e.code : 'JOB_REFUSED';
      const reason = e instanceof Error ? e.message : String(e);
      await this.versions.failQueued(tenantId, versionId, code, reason).catch(() => undefined);
      throw e;
    }
  }

  /** Streams a multipart upload straight into the object store, then queues its ingestion. */
  async uploadVersion(
    tenantId: string,
    datasetId: string,
    req: IncomingMessage,
  ): Promise<{ version: TypedDatasetVersion; jobId: string }> {
    await this.get(tenantId, datasetId);
    const limit = await this.uploadLimit(tenantId);
    let version: TypedDatasetVersion | undefined;
    let sourceKey = '';
    let options: IngestOptionsInput = {};
    try {
      const { file } = await streamMultipartUpload(req, Number(limit), async (stream, meta, fields) => {
        options = parseIngestOptions(fields);
        version = await this.newVersion(tenantId, datasetId, options.parentVersionId);
        sourceKey = keys.datasetSource(tenantId, datasetId, version.id, sourceFileName(meta.fileName));
        await this.store.putStream(sourceKey, stream, {
          contentType: meta.contentType,
          metadata: { 'original-name': encodeURIComponent(meta.fileName).slice(0, 512) },
        });
      });
      if (file.bytes === 0) throw emptyFileProblem(file.fileName);
      return await this.startIngestion(
        tenantId,
        version!.id,
        sourceKey,
        file.bytes,
        toStoredOptions(options),
        options.splitSeed ?? DEFAULT_SPLIT_SEED,
      );
    } catch (e) {
      if (version) await this.discardVersion(tenantId, version);
      throw e;
    }
  }

  // ---- presigned multipart uploads (large files, resumable) -------------------------------------

  async createUpload(
    tenantId: string,
    datasetId: string,
    input: { fileName: string; sizeBytes: number; contentType?: string; options?: Record<string, unknown> },
  ) {
    await this.get(tenantId, datasetId);
    const limit = await this.uploadLimit(tenantId);
    if (BigInt(input.sizeBytes) > limit) {
      throw new ProblemError({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        title: 'Upload too large',
        detail: `${input.sizeBytes} bytes exceeds this tenant's upload limit of ${limit.toString()} bytes`,
      });
    }
    const options = parseIngestOptions(input.options ?? {});
    const partSize = uploadPartSize(input.sizeBytes);
    const partCount = Math.max(1, Math.ceil(input.sizeBytes / partSize));
    const version = await this.newVersion(tenantId, datasetId, options.parentVersionId);
    const objectKey = keys.datasetSource(tenantId, datasetId, version.id, sourceFileName(input.fileName));
    try {
      const s3UploadId = await this.store.createMultipartUpload(
        objectKey,
        input.contentType ?? 'application/octet-stream',
      );
      const upload = await withTenant(this.db, tenantId, (tx) =>
        tx.upload.create({
          data: {
            tenantId,
            datasetId,
            datasetVersionId: version.id,
            objectKey,
            s3UploadId,
            sizeBytes: BigInt(input.sizeBytes),
            partCount,
          },
        }),
      );
      await this.versions.setOptions(
        tenantId,
        version.id,
        toStoredOptions(options),
        options.splitSeed ?? DEFAULT_SPLIT_SEED,
      );
      return {
        upload,
        version,
        partSize,
        partCount,
        parts: await this.partUrls(upload.objectKey, s3UploadId, partSize, 1, partCount),
      };
    } catch (e) {
      await this.discardVersion(tenantId, version);
      throw e;
    }
  }

  /** One PUT URL per part; each accepts at most `partSize` bytes where the store enforces it (the filesystem driver). */
  private async partUrls(key: string, uploadId: string, partSize: number, from: number, to: number) {
    const urls: { partNumber: number; url: string }[] = [];
    for (let n = from; n <= to; n++)
      urls.push({
        partNumber: n,
        url: await this.store.presignedPartUrl(key, uploadId, n, this.config.S3_PRESIGN_EXPIRY_SECONDS, {
          maxBytes: partSize,
        }),
      });
    return urls;
  }

  private async openUpload(tenantId: string, uploadId: string) {
    const upload = await withTenant(this.db, tenantId, (tx) =>
      tx.upload.findUnique({ where: { id: uploadId } }),
    );
    if (!upload) throw notFound('upload', uploadId);
    if (upload.status !== 'OPEN' || !upload.s3UploadId) {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'Upload closed',
        detail: `upload ${uploadId} is ${upload.status}`,
      });
    }
    return { ...upload, s3UploadId: upload.s3UploadId };
  }

  /** For resuming: parts already received, and fresh URLs for every part. */
  async uploadStatus(tenantId: string, uploadId: string) {
    const upload = await this.openUpload(tenantId, uploadId);
    const received = await this.store.listParts(upload.objectKey, upload.s3UploadId);
    return {
      upload,
      received,
      parts: await this.partUrls(
        upload.objectKey,
        upload.s3UploadId,
        uploadPartSize(Number(upload.sizeBytes)),
        1,
        upload.partCount ?? 1,
      ),
    };
  }

  async completeUpload(tenantId: string, uploadId: string, parts: { partNumber: number; etag: string }[]) {
    const upload = await this.openUpload(tenantId, uploadId);
    await this.store
      .completeMultipartUpload(
        upload.objectKey,
        upload.s3UploadId,
        [...parts].sort((a, b) => a.partNumber - b.partNumber),
      )
      .catch((e: unknown) => {
        throw completionProblem(e);
      });
    const stat = await this.store.stat(upload.objectKey);
    const limit = await this.uploadLimit(tenantId);
    if (!stat || BigInt(stat.size) > limit) {
      await this.store.delete(upload.objectKey).catch(() => undefined);
      throw new ProblemError({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        title: 'Upload too large',
        detail: `the completed object exceeds this tenant's upload limit of ${limit.toString()} bytes`,
      });
    }
    await withTenant(this.db, tenantId, (tx) =>
      tx.upload.update({
        where: { id: uploadId },
        data: { status: 'COMPLETED', completedAt: new Date(), sizeBytes: BigInt(stat.size) },
      }),
    );
    const version = await this.version(tenantId, upload.datasetId!, upload.datasetVersionId!);
    return this.startIngestion(
      tenantId,
      version.id,
      upload.objectKey,
      stat.size,
      version.options,
      version.splitSeed,
    );
  }

  async abortUpload(tenantId: string, uploadId: string): Promise<void> {
    const upload = await this.openUpload(tenantId, uploadId);
    await this.store.abortMultipartUpload(upload.objectKey, upload.s3UploadId);
    await withTenant(this.db, tenantId, (tx) =>
      tx.upload.update({ where: { id: uploadId }, data: { status: 'ABORTED', completedAt: new Date() } }),
    );
    if (upload.datasetVersionId) {
      const version = await this.version(tenantId, upload.datasetId!, upload.datasetVersionId);
      await this.discardVersion(tenantId, version);
    }
  }

  // ---- report and preview -------------------------------------------------------------------------

  async preview(tenantId: string, datasetId: string, versionId: string) {
    const version = await this.version(tenantId, datasetId, versionId);
    if (version.status !== 'READY') {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'Dataset not ready',
        detail: `version ${version.version} is ${version.status}`,
      });
    }
    const classes = (version.stats?.classes ?? []).map((c) => ({ ...c, samples: [] as string[] }));
    const prefix = keys.datasetPreviewsPrefix(tenantId, datasetId, versionId);
    for await (const obj of this.store.list(prefix)) {
      const [classIndex] = obj.key.slice(prefix.length).split('/');
      const c = classes[Number(classIndex)];
      if (c) c.samples.push(await this.store.presignedGet(obj.key, this.config.S3_PRESIGN_EXPIRY_SECONDS));
    }
    return { datasetVersionId: versionId, expiresInSeconds: this.config.S3_PRESIGN_EXPIRY_SECONDS, classes };
  }
}
