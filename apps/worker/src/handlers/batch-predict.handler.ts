import { Inject, Injectable, Logger } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { mlBackendOptions, type AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { JOBS } from '@modelsmith/contracts';
import { archiveFiles, IngestionError, openArchive } from '@modelsmith/datasets';
import { ModelStore, PermanentJobError } from '@modelsmith/jobs';
import { initBackend, ModelArtifactError, PreprocessError } from '@modelsmith/ml';
import { ServingEngine, type ModelRef } from '@modelsmith/serving';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { objectArtifactReader, objectByteSource } from '../adapters/object-store-io';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';
import { csvHeader, isSkippedEntry, outputLine, type BatchRow } from './batch-predict-output';
import { isTabularModelTask, TabularBatchPredictor } from './tabular-batch-predict';

/** Images classified together; also how often progress is reported. */
const CHUNK = 16;
const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

/**
 * Batch prediction: every image of an uploaded zip/tar.gz -> one line of predictions.jsonl or
 * predictions.csv in the object store (an image that cannot be decoded gets a line with its error).
 * The model is loaded and checked like in serving (manifest first). Idempotent: a retry starts over
 * and overwrites the same output key.
 */
@Injectable()
@HandlesJob(JOBS.batchPredict)
export class BatchPredictHandler implements JobHandler<typeof JOBS.batchPredict> {
  private readonly logger = new Logger('BatchPredict');

  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly models: ModelStore,
    private readonly tabular: TabularBatchPredictor,
  ) {}

  /** The uploaded archive is only input: it goes once the job is recorded SUCCEEDED. */
  async afterSuccess(ctx: JobContext<typeof JOBS.batchPredict>): Promise<void> {
    await this.store.delete(ctx.inputs.options.inputKey);
  }

  async handle(ctx: JobContext<typeof JOBS.batchPredict>): Promise<Record<string, unknown>> {
    const { tenantId } = ctx.payload;
    const { modelId, options } = ctx.inputs;
    const model = await this.models.getReady(tenantId, modelId);
    if (!model)
      throw new PermanentJobError('MODEL_NOT_FOUND', `model ${modelId} does not exist or was deleted`);
    // Tabular models predict records, not images (tabular-batch-predict.ts).
    if (isTabularModelTask(model.task)) return this.tabular.run(ctx, model);
    await ctx.progress({ stage: 'loading-model', percent: 0 });
    await initBackend(mlBackendOptions(this.config));

    const ref: ModelRef = {
      modelId: model.id,
      version: model.updatedAt.toISOString(),
      prefix: model.artifactPrefix,
    };
    const engine = new ServingEngine({
      reader: objectArtifactReader(this.store),
      maxModelBytes: 4 * 1024 ** 3,
      maxBatchSize: CHUNK,
      maxBatchWaitMs: 0,
      maxQueuedImages: CHUNK * 2,
    });
    try {
      await engine.warm(ref).catch((e: unknown) => {
        if (e instanceof ModelArtifactError)
          throw new PermanentJobError('MODEL_INVALID', `the model was refused and not loaded: ${e.message}`);
        throw e;
      });
      const source = objectByteSource(this.store, options.inputKey, options.inputSize, options.inputName);
      const inputProblem = (e: unknown) => problemOf(e, source.storageFailure);
      const reader = await openArchive(source, { maxEntryBytes: MAX_IMAGE_BYTES }).catch(inputProblem);
      const total = await reader
        .list(ctx.signal)
        .then((entries) => entries.filter((e) => e.kind === 'file' && !isSkippedEntry(e.path)).length)
        .catch(inputProblem);

      const file = `predictions.${options.format}`;
      const outputKey = keys.jobOutput(tenantId, ctx.job.id, file);
      const out = new PassThrough();
      const upload = this.store.putStream(outputKey, out, {
        contentType: options.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      });
      upload.catch(() => undefined); // awaited below; an early rejection (object store down) must not go unhandled and end the worker
      const write = async (text: string) => {
        if (!out.write(text)) await once(out, 'drain');
      };
      let images = 0;
      let failed = 0;
      try {
        if (options.format === 'csv') await write(csvHeader());
        await ctx.progress({
          stage: 'predicting',
          percent: 0,
          message: `${total} files in ${options.inputName}`,
        });
        let chunk: { path: string; bytes: Buffer }[] = [];
        const flush = async () => {
          const rows = await Promise.all(
            chunk.map((f) => this.predictOne(engine, ref, f.path, f.bytes, options.topK)),
          );
          for (const row of rows) await write(outputLine(options.format, row));
          images += rows.length;
          failed += rows.filter((r) => 'error' in r).length;
          chunk = [];
          ctx.throwIfStopped();
          await ctx.progress({
            stage: 'predicting',
            percent: total > 0 ? Math.min(99, (images / total) * 100) : undefined,
            data: { images, failed, total },
          });
        };
        try {
          for await (const f of archiveFiles(reader, MAX_IMAGE_BYTES, ctx.signal)) {
            chunk.push(f);
            if (chunk.length >= CHUNK) await flush();
          }
        } catch (e) {
          inputProblem(e);
        }
        if (chunk.length > 0) await flush();
        out.end();
        await upload;
      } catch (e) {
        out.destroy(e instanceof Error ? e : new Error(String(e)));
        await upload.catch(() => undefined);
        throw e;
      }
      this.logger.log(`job ${ctx.job.id}: ${images} images, ${failed} not predicted -> ${outputKey}`);
      return {
        outputKey,
        format: options.format,
        images,
        predicted: images - failed,
        failed,
        modelId: model.id,
      };
    } finally {
      await engine.close();
    }
  }

  private async predictOne(
    engine: ServingEngine,
    ref: ModelRef,
    path: string,
    bytes: Buffer,
    topK: number,
  ): Promise<BatchRow> {
    try {
      const result = await engine.predict(ref, [bytes], { topK, deadline: Number.POSITIVE_INFINITY });
      return { path, prediction: result.predictions[0] };
    } catch (e) {
      if (e instanceof PreprocessError) return { path, error: e.message.replace(/^image 0: /, '') };
      throw e;
    }
  }
}

/**
 * A broken or hostile archive fails the job for good, naming the problem; an archive the object store
 * failed to deliver (`storageFailure`) is a transient error, retried.
 */
function problemOf(e: unknown, storageFailure: Error | undefined): never {
  if (storageFailure) throw storageFailure;
  if (e instanceof IngestionError) throw new PermanentJobError('INPUT_INVALID', e.message);
  throw e;
}
