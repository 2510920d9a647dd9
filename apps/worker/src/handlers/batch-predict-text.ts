import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { JOBS } from '@modelsmith/contracts';
import { PermanentJobError, type TypedModel } from '@modelsmith/jobs';
import { loadTextClassifier, ModelArtifactError, type TextModel } from '@modelsmith/ml';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { objectArtifactReader } from '../adapters/object-store-io';
import type { JobContext } from '../runtime/job-handler';
import { csvHeader, outputLine, type BatchRow } from './batch-predict-output';

/** Texts classified together; also how often progress is reported. */
const CHUNK = 256;
/** A `{"instances": [...]}` file is parsed whole: at most this many bytes. JSON lines stream. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Batch prediction for a text model. The uploaded file is either JSON `{"instances": ["...", ...]}`
 * (up to 64 MiB) or JSON lines, one instance per line (a JSON string, or an object with a "text"
 * member). Each instance gives one output row whose `path` is its 0-based index; an instance that is
 * not a non-empty string within the model's `maxChars` gets a row with its error instead.
 */
export async function predictTextBatch(
  ctx: JobContext<typeof JOBS.batchPredict>,
  store: ObjectStore,
  model: TypedModel,
): Promise<Record<string, unknown>> {
  const { tenantId } = ctx.payload;
  const { options } = ctx.inputs;
  let classifier: TextModel;
  let maxChars: number;
  try {
    const loaded = await loadTextClassifier(objectArtifactReader(store), model.artifactPrefix);
    classifier = loaded.classifier;
    maxChars = loaded.manifest.input.maxChars;
  } catch (e) {
    if (e instanceof ModelArtifactError)
      throw new PermanentJobError('MODEL_INVALID', `the model was refused and not loaded: ${e.message}`);
    throw e;
  }

  const file = `predictions.${options.format}`;
  const outputKey = keys.jobOutput(tenantId, ctx.job.id, file);
  const out = new PassThrough();
  const upload = store.putStream(outputKey, out, {
    contentType: options.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
  });
  upload.catch(() => undefined); // awaited below
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  let texts = 0;
  let failed = 0;
  try {
    if (options.format === 'csv') await write(csvHeader());
    await ctx.progress({ stage: 'predicting', percent: 0, message: `texts in ${options.inputName}` });
    let chunk: { index: number; value: unknown }[] = [];
    const flush = async () => {
      const rows: BatchRow[] = [];
      const ok: { at: number; text: string }[] = [];
      for (const item of chunk) {
        const problem = instanceProblem(item.value, maxChars);
        rows.push(
          problem ? { path: String(item.index), error: problem } : (undefined as unknown as BatchRow),
        );
        if (!problem) ok.push({ at: rows.length - 1, text: item.value as string });
      }
      const predictions = classifier.classify(
        ok.map((o) => o.text),
        options.topK,
      );
      ok.forEach((o, i) => (rows[o.at] = { path: String(chunk[o.at].index), prediction: predictions[i] }));
      for (const row of rows) await write(outputLine(options.format, row));
      texts += rows.length;
      failed += rows.length - ok.length;
      chunk = [];
      ctx.throwIfStopped();
      await ctx.progress({ stage: 'predicting', data: { texts, failed } });
    };
    for await (const item of readInstances(store, options.inputKey, options.inputName, options.inputSize)) {
      chunk.push(item);
      if (chunk.length >= CHUNK) await flush();
    }
    if (chunk.length > 0) await flush();
    out.end();
    await upload;
  } catch (e) {
    out.destroy(e instanceof Error ? e : new Error(String(e)));
    await upload.catch(() => undefined);
    throw e;
  }
  return { outputKey, format: options.format, texts, predicted: texts - failed, failed, modelId: model.id };
}

const INVALID_JSON = Symbol('invalid JSON');

function instanceProblem(value: unknown, maxChars: number): string | undefined {
  if (value === INVALID_JSON) return 'is not valid JSON';
  if (typeof value !== 'string') return `must be a string (got ${value === null ? 'null' : typeof value})`;
  if (value.trim() === '') return 'is empty';
  if (value.length > maxChars)
    return `has ${value.length} characters; this model accepts at most ${maxChars}`;
  return undefined;
}

/** The instances of the uploaded file, in order, with their 0-based index. */
async function* readInstances(
  store: ObjectStore,
  key: string,
  name: string,
  size: number,
): AsyncGenerator<{ index: number; value: unknown }> {
  const stream = await store.getStream(key);
  if (name.toLowerCase().endsWith('.json')) {
    if (size > MAX_JSON_BYTES) {
      stream.destroy();
      throw new PermanentJobError(
        'INPUT_INVALID',
        `${name} is ${size} bytes; a JSON file may have at most ${MAX_JSON_BYTES} (send JSON lines for more)`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      throw new PermanentJobError('INPUT_INVALID', `${name} is not valid JSON: ${(e as Error).message}`);
    }
    const instances = (body as { instances?: unknown } | null)?.instances;
    if (!Array.isArray(instances))
      throw new PermanentJobError('INPUT_INVALID', `${name}: expected {"instances": [...]} with an array`);
    for (let i = 0; i < instances.length; i++) yield { index: i, value: instances[i] };
    return;
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let index = 0;
  try {
    for await (const raw of lines) {
      const line = (index === 0 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (line === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = INVALID_JSON;
      }
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        value = (value as { text?: unknown }).text ?? null;
      yield { index, value };
      index += 1;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}
