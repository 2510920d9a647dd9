import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { IngestionError } from '../errors';
import type { SkippedItem } from '../stats/report-types';

export interface CsvRow {
  fields: string[];
  /** 1-based line number where the record ends. */
  line: number;
}

/**
 * Streams CSV records. Records csv-parse cannot read (bad quoting, ...) are reported through
 * `onSkip` with their line number and parsing goes on. The first record is returned as a row too.
 */
export async function* csvRows(
  stream: Readable,
  file: string,
  maxRows: number,
  onSkip: (item: SkippedItem) => void,
): AsyncGenerator<CsvRow> {
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
  });
  parser.on('skip', (err: Error & { lines?: number }) => {
    onSkip({
      reason: 'malformed_row',
      path: file,
      line: err.lines,
      message: `${file}${err.lines ? ` line ${err.lines}` : ''}: ${err.message}`,
    });
  });
  stream.on('error', (err) => parser.destroy(err));
  stream.pipe(parser);
  let rows = 0;
  try {
    for await (const rec of parser) {
      const { record, info } = rec as { record: string[]; info: { lines: number } };
      rows += 1;
      if (rows > maxRows + 1) {
        throw new IngestionError('too_many_rows', `${file} has more than ${maxRows} rows`, {
          file,
          line: info.lines,
        });
      }
      yield { fields: record, line: info.lines };
    }
  } catch (err) {
    if (err instanceof IngestionError) throw err;
    const line = (err as { lines?: number }).lines;
    throw new IngestionError(
      'csv_invalid',
      `${file}${line ? ` line ${line}` : ''}: ${(err as Error).message}`,
      { file, line },
    );
  } finally {
    stream.unpipe(parser);
    stream.destroy();
  }
}

export interface JsonRow {
  value: Record<string, unknown>;
  line: number;
}

/** Streams JSON-lines objects; unparsable lines are reported through `onSkip` with their number. */
export async function* jsonlRows(
  stream: Readable,
  file: string,
  maxRows: number,
  onSkip: (item: SkippedItem) => void,
): AsyncGenerator<JsonRow> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  let rows = 0;
  try {
    for await (const raw of lines) {
      line += 1;
      const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (text === '') continue;
      rows += 1;
      if (rows > maxRows)
        throw new IngestionError('too_many_rows', `${file} has more than ${maxRows} rows`, { file, line });
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        onSkip({
          reason: 'malformed_row',
          path: file,
          line,
          message: `${file} line ${line}: invalid JSON (${(err as Error).message})`,
        });
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        onSkip({
          reason: 'malformed_row',
          path: file,
          line,
          message: `${file} line ${line}: expected a JSON object`,
        });
        continue;
      }
      yield { value: value as Record<string, unknown>, line };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}
