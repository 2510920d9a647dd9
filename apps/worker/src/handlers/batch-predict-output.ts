import { stringify } from 'csv-stringify/sync';
import type { ImageClassification } from '@modelsmith/ml';

export const BATCH_OUTPUT_FORMATS = ['jsonl', 'csv'] as const;
export type BatchOutputFormat = (typeof BATCH_OUTPUT_FORMATS)[number];

export interface BatchPredictOptions {
  inputKey: string;
  inputName: string;
  inputSize: number;
  format: BatchOutputFormat;
  topK: number;
}

/** The options the API stored on a BATCH_PREDICT job, or a reason they are unusable. */
export function parseBatchOptions(raw: unknown): BatchPredictOptions | string {
  const o = (raw ?? {}) as Partial<Record<keyof BatchPredictOptions, unknown>>;
  if (typeof o.inputKey !== 'string' || typeof o.inputName !== 'string' || typeof o.inputSize !== 'number') return 'the job names no input archive';
  const format = o.format ?? 'jsonl';
  if (!BATCH_OUTPUT_FORMATS.includes(format as BatchOutputFormat)) return `unknown output format ${JSON.stringify(format)}`;
  const topK = typeof o.topK === 'number' && Number.isInteger(o.topK) && o.topK >= 1 ? Math.min(o.topK, 100) : 3;
  return { inputKey: o.inputKey, inputName: o.inputName, inputSize: o.inputSize, format: format as BatchOutputFormat, topK };
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
    return JSON.stringify('error' in row ? row : { path: row.path, label: row.prediction.label, score: row.prediction.score, top: row.prediction.top }) + '\n';
  }
  if ('error' in row) return stringify([[row.path, '', '', '', row.error]]);
  const top = row.prediction.top.map((t) => `${t.label}:${t.score.toFixed(6)}`).join(' ');
  return stringify([[row.path, row.prediction.label, row.prediction.score.toFixed(6), top, '']]);
}
