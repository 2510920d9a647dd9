import { stringify } from 'csv-stringify/sync';
import {
  batchPredictOptionsSchema,
  type BatchOutputFormat,
  type BatchPredictOptions,
} from '@modelsmith/contracts';
import type { ImageClassification } from '@modelsmith/ml';

/**
 * The options of a BATCH_PREDICT job (libs/contracts `batchPredictOptionsSchema`, as the runner parses
 * them), or a reason they are unusable.
 */
export function parseBatchOptions(raw: unknown): BatchPredictOptions | string {
  const parsed = batchPredictOptionsSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const fields = new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')));
  if (fields.has('inputKey') || fields.has('inputName') || fields.has('inputSize') || fields.has(''))
    return 'the job names no input archive';
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/**
 * Entries batch prediction does not predict (the same rule as libs/datasets `archiveFiles`):
 * archiver junk (`__MACOSX/`, `Thumbs.db`) and hidden files (`.DS_Store`, `._x`, `.anything`).
 */
export function isSkippedEntry(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? '';
  return parts[0] === '__MACOSX' || base === 'Thumbs.db' || base.startsWith('.');
}

export type BatchRow = { path: string; prediction: ImageClassification } | { path: string; error: string };

export const csvHeader = (): string => stringify([['path', 'label', 'score', 'top', 'error']]);

/** One output line (with its newline): JSONL `{path,label,score,top}` / `{path,error}`, or a CSV row. */
export function outputLine(format: BatchOutputFormat, row: BatchRow): string {
  if (format === 'jsonl') {
    return (
      JSON.stringify(
        'error' in row
          ? row
          : {
              path: row.path,
              label: row.prediction.label,
              score: row.prediction.score,
              top: row.prediction.top,
            },
      ) + '\n'
    );
  }
  if ('error' in row) return stringify([[row.path, '', '', '', row.error]]);
  const top = row.prediction.top.map((t) => `${t.label}:${t.score.toFixed(6)}`).join(' ');
  return stringify([[row.path, row.prediction.label, row.prediction.score.toFixed(6), top, '']]);
}
