import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { JOBS } from '@modelsmith/contracts';
import { withTenant, type Job, type PrismaClient } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import { emptyFileProblem, ProblemError } from '@modelsmith/http';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { streamMultipartUpload } from '../datasets/multipart-upload';
import { sourceFileName } from '../datasets/source-file-name';
import { JobsService } from '../jobs/jobs.service';
import { ModelsService } from './models.service';
import { assertServable } from './servable-model';

const FORMATS = ['jsonl', 'csv'] as const;

function fieldsToOptions(fields: Record<string, string>): { format: (typeof FORMATS)[number]; topK: number } {
  const format = (fields.format ?? 'jsonl').toLowerCase();
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new ProblemError({
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Invalid field',
      detail: `format must be jsonl or csv (got "${format}")`,
      extensions: { errors: [{ field: 'format', message: 'must be jsonl or csv' }] },
    });
  }
  const topK = fields.topK === undefined ? 3 : Number(fields.topK);
  if (!Number.isInteger(topK) || topK < 1 || topK > 100) {
    throw new ProblemError({
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Invalid field',
      detail: 'topK must be an integer from 1 to 100',
      extensions: { errors: [{ field: 'topK', message: 'must be an integer from 1 to 100' }] },
    });
  }
  return { format: format as (typeof FORMATS)[number], topK };
}

/**
 * Batch predictions: the archive streams to the object store (never buffered), then a BATCH_PREDICT
 * job classifies every image in it. The tenant's upload cap applies.
 */
@Injectable()
export class BatchPredictionsService {
  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly models: ModelsService,
    private readonly jobs: JobsService,
  ) {}

  async create(tenantId: string, modelId: string, req: IncomingMessage): Promise<Job> {
    const model = await this.models.get(tenantId, modelId);
    assertServable(model);
    const tenant = await withTenant(this.db, tenantId, (tx) =>
      tx.tenant.findUnique({ where: { id: tenantId }, select: { maxUploadBytes: true } }),
    );
    const uploadId = randomUUID();
    let inputKey = '';
    let options: ReturnType<typeof fieldsToOptions> = { format: 'jsonl', topK: 3 };
    try {
      const { file } = await streamMultipartUpload(
        req,
        Number(tenant?.maxUploadBytes ?? 0n),
        async (stream, meta, fields) => {
          options = fieldsToOptions(fields);
          inputKey = keys.batchInput(tenantId, uploadId, sourceFileName(meta.fileName));
          await this.store.putStream(inputKey, stream, { contentType: meta.contentType });
        },
      );
      if (file.bytes === 0) throw emptyFileProblem(file.fileName);
      return await this.jobs.submit(tenantId, JOBS.batchPredict, {
        inputs: {
          modelId: model.id,
          options: { inputKey, inputName: file.fileName, inputSize: file.bytes, ...options },
        },
      });
    } catch (e) {
      if (inputKey) await this.store.delete(inputKey).catch(() => undefined);
      throw e;
    }
  }
}
