import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Container, DatasetFormat } from '../detect/format-types';
import { IngestionError } from '../errors';
import type { RecordShardIndex } from '../shards/shard-index';
import type { ShardSink } from '../shards/shard-sink';
import { JsonlShardWriter } from '../shards/shard-writer';
import type { ByteSource } from '../source/byte-source';
import { parseSplit, type Split } from '../split/split-types';
import type { DatasetReport, SkippedItem, TabularStats } from '../stats/report-types';
import { commonWarnings, imbalanceRatio } from '../stats/warnings';
import { ColumnAccumulator, isMissing } from '../tabular/column-stats';
import { HistogramSampler } from '../tabular/histogram';
import { LeakageSampler } from '../tabular/leakage';
import { csvRows, jsonlRows } from '../text/row-readers';
import { TextStatsAccumulator } from '../text/text-stats';
import { throwIfAborted } from '../util/abort';
import { sha256Hex } from '../util/hash';
import { sanitizeLabel } from '../util/label';
import { assertTrainable, commitDataset } from './commit';
import type { ResolvedOptions } from './options';
import type { ProgressCallback } from './progress';
import type { IngestResult } from './result';
import { SampleCollector } from './sample-collector';

/** One row reduced to what ingestion needs, or null when it was skipped. */
interface RowSample {
  line: number;
  record: unknown;
  /** Raw class label (or raw target value for tabular). */
  label: string;
  /** Content hash of the normalized text, for duplicate/conflict detection. */
  hash: string;
  split: Split | null;
}

interface RowContext {
  file: string;
  collector: SampleCollector;
  opts: ResolvedOptions;
  sanitized: Set<string>;
}

function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

function readSplit(ctx: RowContext, raw: string | undefined, line: number): Split | null | undefined {
  if (raw === undefined || raw.trim() === '') return null;
  const split = parseSplit(raw);
  if (split === null) {
    ctx.collector.skip({
      reason: 'invalid_split',
      path: ctx.file,
      line,
      message: `${ctx.file} line ${line}: split "${raw}" is not train, validation or test`,
    });
    return undefined;
  }
  return split;
}

function textSample(
  ctx: RowContext,
  text: string,
  rawLabel: string,
  rawSplit: string | undefined,
  line: number,
): RowSample | null {
  const normalized = text.normalize('NFC').trim();
  const { label, changed } = sanitizeLabel(rawLabel);
  if (normalized === '' || label === '') {
    ctx.collector.skip({
      reason: 'missing_value',
      path: ctx.file,
      line,
      message: `${ctx.file} line ${line}: empty ${normalized === '' ? ctx.opts.textColumn : ctx.opts.labelColumn}`,
    });
    return null;
  }
  if (changed && label !== rawLabel.trim()) ctx.sanitized.add(label);
  const split = readSplit(ctx, rawSplit, line);
  if (split === undefined) return null;
  return { line, record: { text: normalized, label }, label, hash: sha256Hex(normalized), split };
}

function columnIndex(header: string[], name: string, file: string): number {
  const i = header.indexOf(name);
  if (i < 0) {
    throw new IngestionError(
      'missing_column',
      `${file} line 1: no column "${name}" (columns: ${header.join(', ')})`,
      { file, line: 1, field: name },
    );
  }
  return i;
}

function decideFormat(
  header: string[],
  container: Container,
  opts: ResolvedOptions,
  file: string,
): DatasetFormat {
  if (opts.format) return opts.format;
  if (container === 'jsonl') return 'text-jsonl';
  if (opts.target !== undefined) return 'tabular-csv';
  if (header.includes(opts.textColumn) && header.includes(opts.labelColumn)) return 'text-csv';
  throw new IngestionError(
    'unknown_format',
    `${file} has columns ${header.join(', ')}: a text dataset needs "${opts.textColumn}" and "${opts.labelColumn}" columns; for tabular data name the target column`,
    { file, line: 1 },
  );
}

/** Ingests text classification (CSV/JSONL) or tabular (CSV) rows into JSON-lines shards. */
export async function ingestRows(
  source: ByteSource,
  container: 'csv' | 'jsonl',
  opts: ResolvedOptions,
  sink: ShardSink,
  progress: ProgressCallback,
): Promise<IngestResult> {
  const file = source.name;
  const collector = new SampleCollector(opts.maxListed);
  const ctx: RowContext = { file, collector, opts, sanitized: new Set() };
  const onSkip = (item: SkippedItem): void => collector.skip(item);
  let bytes = 0;
  const raw = await source.openRange(0, source.size);
  const input = raw.pipe(counting((n) => (bytes += n))) as Readable;
  raw.on('error', (err) => input.destroy(err));
  const writer = new JsonlShardWriter(sink, `${opts.keyPrefix}shards/records-`, opts.shardSize);
  const textStats = new TextStatsAccumulator();
  let columns: ColumnAccumulator[] = [];
  let header: string[] = [];
  let format: DatasetFormat | undefined;
  let targetIdx = -1;
  const targetSample = new HistogramSampler();
  const leakageSample = new LeakageSampler(opts.seed);
  let rows = 0;

  const tick = (): void => {
    progress({
      stage: 'ingest',
      entriesProcessed: rows,
      bytesProcessed: bytes,
      bytesTotal: source.size,
      percent: Math.min(99, (99 * bytes) / Math.max(1, source.size)),
    });
  };

  /** Keeps a text row if it is the first copy of its text. */
  const take = async (sample: RowSample | null): Promise<void> => {
    if (sample === null) return;
    if (collector.admit(sample.hash, sample.label, `${file}:${sample.line}`) !== 'new') return;
    const pos = await writer.add(sample.record);
    collector.add(pos, sample.label, sample.hash, `${file}:${sample.line}`, sample.split);
  };

  try {
    if (container === 'jsonl') {
      format = decideFormat([], container, opts, file);
      for await (const { value, line } of jsonlRows(input, file, opts.limits.maxRows, onSkip)) {
        throwIfAborted(opts.signal);
        rows += 1;
        const text = value[opts.textColumn];
        const label = value[opts.labelColumn];
        const split = value[opts.splitColumn];
        if (typeof text !== 'string' || (typeof label !== 'string' && typeof label !== 'number')) {
          collector.skip({
            reason: 'missing_value',
            path: file,
            line,
            message: `${file} line ${line}: needs a string "${opts.textColumn}" and a string or number "${opts.labelColumn}"`,
          });
          continue;
        }
        const sample = textSample(
          ctx,
          text,
          String(label),
          typeof split === 'string' ? split : undefined,
          line,
        );
        if (sample) textStats.add((sample.record as { text: string }).text);
        await take(sample);
        tick();
      }
    } else {
      for await (const { fields, line } of csvRows(input, file, opts.limits.maxRows, onSkip)) {
        throwIfAborted(opts.signal);
        if (format === undefined) {
          header = fields.map((h) => h.trim());
          format = decideFormat(header, container, opts, file);
          if (format === 'tabular-csv') {
            if (opts.target === undefined)
              throw new IngestionError('invalid_options', 'tabular-csv needs the target option', {
                field: 'target',
              });
            targetIdx = columnIndex(header, opts.target, file);
            columns = header.map((h) => new ColumnAccumulator(h));
          } else {
            columnIndex(header, opts.textColumn, file);
            columnIndex(header, opts.labelColumn, file);
            if (opts.splitColumnExplicit) columnIndex(header, opts.splitColumn, file);
          }
          continue;
        }
        rows += 1;
        if (fields.length !== header.length) {
          collector.skip({
            reason: 'malformed_row',
            path: file,
            line,
            message: `${file} line ${line}: ${fields.length} fields, the header has ${header.length}`,
          });
          continue;
        }
        if (format === 'tabular-csv') {
          fields.forEach((v, i) => columns[i].add(v));
          const target = fields[targetIdx].trim();
          if (isMissing(target)) {
            collector.skip({
              reason: 'missing_value',
              path: file,
              line,
              message: `${file} line ${line}: the target "${opts.target}" is missing`,
            });
            continue;
          }
          const numeric = Number(target);
          if (Number.isFinite(numeric)) targetSample.add(numeric);
          const record = Object.fromEntries(header.map((h, i) => [h, fields[i]]));
          // Every valid row is kept: its id is its line and cells (unique per row); rows with the
          // same features (duplicates, or the same features under another target) are counted and
          // share one split.
          const path = `${file}:${line}`;
          const group = sha256Hex(fields.filter((_, i) => i !== targetIdx).join('\u0000'));
          const id = sha256Hex(`${line}\u0000${fields.join('\u0000')}`);
          collector.observe(group, target, path);
          collector.add(await writer.add(record), target, id, path, null, group);
          leakageSample.add(id, fields);
        } else {
          const get = (name: string): string | undefined => {
            const i = header.indexOf(name);
            return i < 0 ? undefined : fields[i];
          };
          const sample = textSample(
            ctx,
            get(opts.textColumn) ?? '',
            get(opts.labelColumn) ?? '',
            get(opts.splitColumn),
            line,
          );
          if (sample) textStats.add((sample.record as { text: string }).text);
          await take(sample);
        }
        tick();
      }
    }
  } finally {
    // Stopping early (a fatal row, cancellation) must not leave the source open.
    raw.destroy();
  }
  await writer.flush();
  throwIfAborted(opts.signal);
  if (format === undefined) throw new IngestionError('empty_dataset', `${file} has no rows`, { file });

  const tabular = format === 'tabular-csv';
  const targetCol = tabular ? columns[targetIdx] : undefined;
  const classification = !tabular || targetCol!.type() !== 'numeric' || targetCol!.looksLikeClassIds();
  const collected = collector.finalize(opts.ratios, opts.seed, classification);
  assertTrainable(collected, file, tabular ? 'row' : 'text', classification);

  const warnings = commonWarnings({
    collected,
    entries: rows,
    skipped: collector.skippedCount,
    duplicates: collector.duplicateCount,
    conflicts: collector.conflictCount(),
    copiesKept: tabular,
    sanitizedLabels: [...ctx.sanitized].sort(),
    minSamplesPerClass: opts.minSamplesPerClass,
    noun: tabular ? 'row' : 'text',
  });
  let tabularStats: TabularStats | undefined;
  if (tabular && targetCol) {
    const colStats = columns.map((c) => c.result());
    const num = targetCol.numericSummary();
    tabularStats = {
      rows,
      columns: colStats,
      target: {
        name: targetCol.name,
        type: targetCol.type(),
        ...(classification
          ? { distribution: collected.classes.map((c) => ({ value: c.name, count: c.count })) }
          : { numeric: num ? { ...num, histogram: targetSample.histogram(num.min, num.max) } : undefined }),
      },
    };
    for (const c of colStats) {
      if (c.missing > 0)
        warnings.push({
          code: 'missing_values',
          subject: c.name,
          message: `column \`${c.name}\` has ${c.missing} missing values of ${rows}`,
        });
      // One value (or none) on every row: nothing to learn from; training leaves it out.
      if (c.name !== targetCol.name && !c.distinctCapped && c.distinct <= 1)
        warnings.push({
          code: 'constant_column',
          subject: c.name,
          message:
            c.distinct === 0
              ? `column \`${c.name}\` is empty; training leaves it out`
              : `column \`${c.name}\` has a single value${c.missing ? ' (or is missing)' : ''} on every row; training leaves it out`,
        });
    }
    // Columns that (nearly) determine the target: the rule training applies (see tabular/leakage.ts).
    warnings.push(
      ...leakageSample.warnings({
        header,
        targetIdx,
        columns: colStats.map((c) => ({ type: c.type, constant: !c.distinctCapped && c.distinct <= 1 })),
        samples: collected.samples,
        labels: classification ? collected.labels : null,
      }),
    );
    if (classification && collected.labels.length > 50) {
      warnings.push({
        code: 'target_high_cardinality',
        subject: targetCol.name,
        message: `target \`${targetCol.name}\` has ${collected.labels.length} classes; is it really a class label?`,
      });
    }
  }
  const text = tabular ? undefined : textStats.result();
  if (!tabular && textStats.shortTexts / Math.max(1, textStats.count) > 0.5) {
    warnings.push({
      code: 'short_texts',
      message: `${textStats.shortTexts} of ${textStats.count} texts have fewer than 3 words`,
    });
  }

  const index: RecordShardIndex = {
    version: 1,
    kind: tabular ? 'tabular' : 'text',
    labels: collected.labels,
    ...(tabular ? { target: opts.target, columns: header } : {}),
    shards: writer.files,
    samples: collected.samples,
  };
  const report: DatasetReport = {
    version: 1,
    kind: tabular ? 'tabular' : 'text',
    format,
    container,
    source: { name: file, bytes: source.size },
    totals: {
      entries: rows,
      samples: collected.samples.length,
      skipped: collector.skippedCount,
      duplicates: collector.duplicateCount,
      labelConflicts: collector.conflictCount(),
    },
    classes: collected.classes,
    splits: collected.splits,
    split: { method: collected.method, seed: opts.seed, ratios: opts.ratios },
    imbalanceRatio: classification ? imbalanceRatio(collected) : null,
    ...(text ? { text } : {}),
    ...(tabularStats ? { tabular: tabularStats } : {}),
    skipped: collector.skipped,
    skippedByReason: collector.skippedByReason,
    duplicates: collector.duplicates(),
    labelConflicts: collector.labelConflicts(),
    warnings,
    truncatedLists: collector.truncated,
  };
  const result = await commitDataset(sink, opts.keyPrefix, index, report);
  progress({
    stage: 'finalize',
    entriesProcessed: rows,
    bytesProcessed: source.size,
    bytesTotal: source.size,
    percent: 100,
  });
  return result;
}
