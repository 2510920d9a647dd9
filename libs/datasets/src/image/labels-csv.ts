import { parse } from 'csv-parse/sync';
import { IngestionError } from '../errors';
import { parseSplit, type Split } from '../split/split-types';
import type { SkippedItem } from '../stats/report-types';
import { sanitizeLabel } from '../util/label';

export interface LabelRow {
  label: string;
  split: Split | null;
  line: number;
  sanitized: boolean;
}

export interface LabelsCsv {
  rows: Map<string, LabelRow>;
  skipped: SkippedItem[];
}

function normalizePath(p: string): string {
  return p
    .trim()
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/** Parses `labels.csv` (columns path,label[,split]; a header row is required). */
export function parseLabelsCsv(data: Buffer, file: string, splitColumn: string): LabelsCsv {
  let records: string[][];
  try {
    records = parse(data, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new IngestionError(
      'labels_csv_invalid',
      `${file}${line ? ` line ${line}` : ''}: ${(err as Error).message}`,
      { file, line },
    );
  }
  const header = (records[0] ?? []).map((h) => h.toLowerCase());
  const pathCol = header.findIndex((h) => h === 'path' || h === 'file' || h === 'filename' || h === 'image');
  const labelCol = header.indexOf('label');
  const splitCol = header.indexOf(splitColumn.toLowerCase());
  if (pathCol < 0 || labelCol < 0) {
    throw new IngestionError(
      'labels_csv_invalid',
      `${file} line 1: the header must name the columns "path" and "label" (got ${header.join(',') || 'nothing'})`,
      {
        file,
        line: 1,
        field: pathCol < 0 ? 'path' : 'label',
      },
    );
  }
  const rows = new Map<string, LabelRow>();
  const skipped: SkippedItem[] = [];
  records.slice(1).forEach((rec, i) => {
    const line = i + 2;
    const where = `${file}:${line}`;
    // The split is optional row by row: `path,label` is accepted when split is the last column.
    const splitOmitted = splitCol === header.length - 1 && rec.length === header.length - 1;
    if (rec.length !== header.length && !splitOmitted) {
      skipped.push({
        reason: 'malformed_row',
        path: file,
        line,
        message: `${where} has ${rec.length} fields, the header has ${header.length}`,
      });
      return;
    }
    const path = normalizePath(rec[pathCol] ?? '');
    const { label, changed } = sanitizeLabel(rec[labelCol] ?? '');
    if (path === '' || label === '') {
      skipped.push({
        reason: 'missing_value',
        path: file,
        line,
        message: `${where} has an empty ${path === '' ? 'path' : 'label'}`,
      });
      return;
    }
    let split: Split | null = null;
    if (splitCol >= 0 && (rec[splitCol] ?? '') !== '') {
      split = parseSplit(rec[splitCol]);
      if (split === null) {
        skipped.push({
          reason: 'invalid_split',
          path: file,
          line,
          message: `${where}: split "${rec[splitCol]}" is not train, validation or test`,
        });
        return;
      }
    }
    if (rows.has(path)) {
      skipped.push({
        reason: 'malformed_row',
        path: file,
        line,
        message: `${where}: "${path}" is listed twice (first on line ${rows.get(path)!.line})`,
      });
      return;
    }
    rows.set(path, { label, split, line, sanitized: changed && label !== (rec[labelCol] ?? '').trim() });
  });
  return { rows, skipped };
}
