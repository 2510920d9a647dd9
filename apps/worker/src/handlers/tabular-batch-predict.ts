import { Inject, Injectable } from '@nestjs/common';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { BatchOutputFormat, JOBS } from '@modelsmith/contracts';
import type { Task } from '@modelsmith/db';
import { PermanentJobError, type TypedModel } from '@modelsmith/jobs';
import {
  predictRecords,
  TABULAR_MODEL_FILE,
  TABULAR_MODEL_FORMAT,
  validateInstances,
  type TabularModelArtifact,
  type TabularPrediction,
  type TabularRow,
} from '@modelsmith/ml/tabular';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import type { JobContext } from '../runtime/job-handler';

export const isTabularModelTask = (task: Task): boolean =>
  task === 'TABULAR_CLASSIFICATION' || task === 'TABULAR_REGRESSION';

/** Records predicted per progress report. */
const CHUNK = 1000;

type Row = { row: number; prediction: TabularPrediction } | { row: number; error: string };

/**
 * Records from an uploaded file: `{"instances": [...]}` (JSON), one JSON object per line (JSONL), or
 * a CSV with a header. The format follows the content (a body starting with `{` is JSON or JSONL).
 */
export function parseRecords(text: string, name: string): unknown[] {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body.startsWith('{')) {
    try {
      const whole = JSON.parse(body) as { instances?: unknown };
      if (Array.isArray(whole.instances)) return whole.instances;
      if (!/\n\s*\{/.test(body))
        throw new PermanentJobError('INPUT_INVALID', `${name}: a JSON body needs an "instances" array`);
    } catch (e) {
      if (e instanceof PermanentJobError) throw e;
      // Not one JSON document: JSON lines.
    }
    return body.split('\n').flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as unknown];
      } catch {
        throw new PermanentJobError('INPUT_INVALID', `${name} line ${i + 1}: not valid JSON`);
      }
    });
  }
  try {
    return parseCsv<Record<string, string>>(body, { columns: true, skip_empty_lines: true, trim: true });
  } catch (e) {
    throw new PermanentJobError(
      'INPUT_INVALID',
      `${name}: not {"instances": [...]}, JSON lines or a CSV with a header (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

export function tabularCsvHeader(): string {
  return stringify([['row', 'label', 'score', 'value', 'error']]);
}

export function tabularOutputLine(format: BatchOutputFormat, r: Row): string {
  if (format === 'jsonl') return JSON.stringify('error' in r ? r : { row: r.row, ...r.prediction }) + '\n';
  if ('error' in r) return stringify([[r.row, '', '', '', r.error]]);
  const p = r.prediction;
  return 'value' in p
    ? stringify([[r.row, '', '', p.value, '']])
    : stringify([[r.row, p.label, p.score.toFixed(6), '', '']]);
}

/**
 * Batch prediction for tabular models: every record of the uploaded file -> one output line (rows
 * numbered from 1 in file order); a record that does not fit the model's input schema gets a line
 * with its error, naming the field. The input is read whole (tabular files, bounded by the tenant's
 * upload limit).
 */
@Injectable()
export class TabularBatchPredictor {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  async run(ctx: JobContext<typeof JOBS.batchPredict>, model: TypedModel): Promise<Record<string, unknown>> {
    const { tenantId } = ctx.payload;
    const { options } = ctx.inputs;
    await ctx.progress({ stage: 'loading-model', percent: 0 });
    const artifact = JSON.parse(
      (await this.store.getBytes(keys.within(model.artifactPrefix, TABULAR_MODEL_FILE))).toString('utf8'),
    ) as TabularModelArtifact;
    if (artifact.format !== TABULAR_MODEL_FORMAT || artifact.version !== 1)
      throw new PermanentJobError(
        'MODEL_INVALID',
        `model ${model.id} has no version 1 ${TABULAR_MODEL_FILE}`,
      );
    const records = parseRecords(
      (await this.store.getBytes(options.inputKey)).toString('utf8'),
      options.inputName,
    );
    const lines: string[] = options.format === 'csv' ? [tabularCsvHeader()] : [];
    let failed = 0;
    for (let start = 0; start < records.length; start += CHUNK) {
      const chunk = records.slice(start, start + CHUNK);
      const valid: { i: number; r: TabularRow }[] = [];
      const rows: Row[] = chunk.map((r, j) => {
        const problem = validateInstances(artifact, [r]);
        if (!problem) {
          valid.push({ i: j, r: r as TabularRow });
          return { row: start + j + 1, error: '' };
        }
        failed++;
        return { row: start + j + 1, error: `${problem.field || 'record'} ${problem.message}` };
      });
      const predictions = predictRecords(
        artifact,
        valid.map((v) => v.r),
      );
      valid.forEach((v, k) => (rows[v.i] = { row: start + v.i + 1, prediction: predictions[k] }));
      for (const r of rows) lines.push(tabularOutputLine(options.format, r));
      ctx.throwIfStopped();
      await ctx.progress({
        stage: 'predicting',
        percent: Math.min(99, ((start + chunk.length) / Math.max(1, records.length)) * 100),
        data: { records: start + chunk.length, failed, total: records.length },
      });
    }
    const outputKey = keys.jobOutput(tenantId, ctx.job.id, `predictions.${options.format}`);
    await this.store.putBytes(
      outputKey,
      Buffer.from(lines.join('')),
      options.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
    );
    return {
      outputKey,
      format: options.format,
      records: records.length,
      predicted: records.length - failed,
      failed,
      modelId: model.id,
    };
  }
}
