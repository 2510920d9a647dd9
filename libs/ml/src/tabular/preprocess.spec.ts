import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fitPreprocessor, invalidCell, transformRows, transformTrainingRows } from './preprocess';
import { inferKind, parseDate } from './values';

const row = (features: string[], x: Float64Array, d: number, i: number) =>
  Object.fromEntries(features.map((f, j) => [f, x[i * d + j]]));

describe('tabular encoders', () => {
  it('imputes numeric columns with the training median and adds a missing indicator', () => {
    const rows = [{ a: '1' }, { a: '3' }, { a: 'NA' }, { a: '10' }, { a: '' }];
    const p = fitPreprocessor(rows, { columns: ['a'], target: [0, 1, 0, 1, 0], numClasses: 2 });
    expect(p.features).toEqual(['a', 'a__missing']);
    const x = transformRows(p, [...rows, { a: 7 }, { a: null }]);
    expect(Array.from(x)).toEqual([1, 0, 3, 0, 3, 1, 10, 0, 3, 1, 7, 0, 3, 1]);
  });

  it('one-hot encodes low-cardinality categories; unseen and missing are all zeros', () => {
    const rows = ['red', 'blue', 'red', 'green', '?'].map((c) => ({ c }));
    const p = fitPreprocessor(rows, { columns: ['c'], target: [0, 0, 1, 1, 0], numClasses: 2 });
    expect(p.features).toEqual(['c=blue', 'c=green', 'c=red']);
    const x = transformRows(p, [{ c: 'red' }, { c: 'purple' }, { c: null }, { c: ' blue ' }]);
    expect(Array.from(x)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it('target-encodes high-cardinality categories with smoothing, out of fold on the training rows', () => {
    // 30 cities, each with 4 rows; the target is 1 exactly for the even-numbered cities.
    const rows = Array.from({ length: 120 }, (_, i) => ({ city: `c${i % 30}` }));
    const y = rows.map((_, i) => ((i % 30) % 2 === 0 ? 1 : 0));
    const p = fitPreprocessor(rows, { columns: ['city'], target: y, numClasses: 2, maxOneHot: 10 });
    expect(p.features).toEqual(['city__frequency', 'city__target']);
    const x = transformRows(p, [{ city: 'c0' }, { city: 'c1' }, { city: 'unseen' }]);
    expect(x[0]).toBeCloseTo(4 / 120, 12);
    // (4 positives + 10 x prior 0.5) / (4 + 10)
    expect(x[1]).toBeCloseTo(9 / 14, 12);
    expect(x[3]).toBeCloseTo(5 / 14, 12);
    expect(x[4]).toBe(0);
    expect(x[5]).toBeCloseTo(0.5, 12);
    // Out of fold: a training row's encoding does not depend on its own target (flipping it
    // changes nothing for that row), while the full-data encoding would.
    const xt = transformTrainingRows(p, rows, { target: y, numClasses: 2 });
    for (const i of [0, 1, 7, 64]) {
      const flipped = y.map((v, j) => (j === i ? 1 - v : v));
      const xf = transformTrainingRows(p, rows, { target: flipped, numClasses: 2 });
      expect(xf[i * 2 + 1]).toBe(xt[i * 2 + 1]);
      expect(xt[i * 2]).toBeCloseTo(4 / 120, 12);
    }
    expect(xt.filter((_, j) => j % 2 === 1).some((v) => Math.abs(v - 9 / 14) > 1e-9)).toBe(true);
  });

  it('expands dates into year, month, day of week and ordinal day', () => {
    const rows = [{ d: '2024-02-29' }, { d: '1/15/2023' }, { d: '2020-01-01T12:00:00Z' }];
    const p = fitPreprocessor(rows, { columns: ['d'], target: [1, 2, 3], numClasses: 0 });
    expect(p.features).toEqual(['d__year', 'd__month', 'd__dayofweek', 'd__ordinal']);
    const x = transformRows(p, rows);
    // 2024-02-29 was a Thursday (4); 2023-01-15 a Sunday (0).
    expect(Array.from(x.subarray(0, 4))).toEqual([2024, 2, 4, 19782]);
    expect(Array.from(x.subarray(4, 8))).toEqual([2023, 1, 0, 19372]);
    expect(x[8]).toBe(2020);
    expect(parseDate('2024-13-45')).toBeUndefined();
    // Impossible days are not dates (Date.parse / Date.UTC would roll them into the next month).
    for (const bad of ['2024-02-30', '2023-02-29', '2024-04-31T10:00', '2/30/2024', '13/1/2024', '0/10/2024'])
      expect({ bad, t: parseDate(bad) }).toEqual({ bad, t: undefined });
    expect(parseDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDate('12/31/2023')).toBe(Date.UTC(2023, 11, 31));
  });

  it('reads dates and date-times without an offset as UTC whatever the process time zone', () => {
    // Jest's sandbox ignores TZ changes: each zone runs parseDate in a child Node process.
    const cells = [
      '2024-01-15',
      '1/15/2024',
      '2024-01-15T10:00',
      '2024-01-15 10:00:30',
      '2024-01-15T10:00:00.5',
      '2024-01-15T10:00+01:00',
      '2024-01-15 10:00-0500',
    ];
    const expected = [
      Date.UTC(2024, 0, 15),
      Date.UTC(2024, 0, 15),
      Date.UTC(2024, 0, 15, 10),
      Date.UTC(2024, 0, 15, 10, 0, 30),
      Date.UTC(2024, 0, 15, 10, 0, 0, 500),
      Date.UTC(2024, 0, 15, 9),
      Date.UTC(2024, 0, 15, 15),
    ];
    const script = `import(${JSON.stringify(join(__dirname, 'values.ts'))}).then((m) => {
      const parse = m.parseDate ?? m.default.parseDate;
      console.log(JSON.stringify(${JSON.stringify(cells)}.map((c) => parse(c))));
    })`;
    for (const zone of ['Asia/Tokyo', 'America/New_York']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
        env: { ...process.env, TZ: zone },
        encoding: 'utf8',
      });
      expect({ zone, t: JSON.parse(out) as number[] }).toEqual({ zone, t: expected });
    }
  });

  it('drops constant, empty and identifier-like columns and records the feature order', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: `row-${i}`,
      k: 'same',
      e: '',
      n: String(i % 5),
      flag: i % 2 ? 'yes' : 'no',
    }));
    const p = fitPreprocessor(rows, {
      columns: ['id', 'k', 'e', 'n', 'flag'],
      target: rows.map(() => 0),
      numClasses: 2,
    });
    expect(p.dropped).toEqual([
      { column: 'id', reason: 'identifier' },
      { column: 'k', reason: 'constant' },
      { column: 'e', reason: 'empty' },
    ]);
    expect(p.features).toEqual(['n', 'flag']);
    expect(p.featureColumns).toEqual(['n', 'flag']);
    const x = transformRows(p, rows.slice(0, 2));
    expect(Array.from(x)).toEqual([0, 0, 1, 1]);
    expect(row(p.features, x, 2, 1)).toEqual({ n: 1, flag: 1 });
  });

  it('validates cells against the column type', () => {
    const p = fitPreprocessor(
      [
        { n: '1', b: 'true', c: 'x' },
        { n: '2', b: 'false', c: 'y' },
      ],
      {
        columns: ['n', 'b', 'c'],
        types: { n: 'numeric', b: 'boolean', c: 'categorical' },
        target: [0, 1],
        numClasses: 2,
      },
    );
    const [n, b, c] = p.encoders;
    expect(invalidCell(n, 'abc')).toMatch(/number/);
    expect(invalidCell(n, '1e3')).toBeNull();
    expect(invalidCell(n, null)).toBeNull();
    expect(invalidCell(b, 'maybe')).toMatch(/boolean/);
    expect(invalidCell(b, false)).toBeNull();
    expect(invalidCell(c, { nested: 1 })).toMatch(/number, string/);
    expect(invalidCell(c, 42)).toBeNull();
  });

  it('infers column kinds like ingestion', () => {
    expect(inferKind(['1', '2.5', 'NA'])).toBe('numeric');
    expect(inferKind(['yes', 'no', ''])).toBe('boolean');
    expect(inferKind(['2020-01-01', '2021-06-30'])).toBe('date');
    expect(inferKind(['a', '1'])).toBe('categorical');
    expect(inferKind(['', null])).toBe('empty');
  });
});
