import {
  categoryOf,
  leakageWarning,
  parseBoolean,
  parseDate,
  parseNumber,
  type LeakageCells,
} from '@modelsmith/contracts';
import type { IndexedSample } from '../shards/shard-index';
import type { ColumnType, DatasetWarning } from '../stats/report-types';
import { mulberry32 } from '../util/prng';

/** Rows ingestion keeps (a seeded uniform sample of the kept rows) to look for leaking columns. */
export const LEAKAGE_SAMPLE_ROWS = 20_000;

/** A numeric, boolean or date cell as a number (NaN: missing or unreadable), read as training reads it. */
function cellNumber(raw: string, type: ColumnType): number {
  const parse = type === 'date' ? parseDate : type === 'boolean' ? parseBoolean : parseNumber;
  return parse(raw) ?? NaN;
}

/**
 * Reservoir sample (seeded) of a tabular upload's rows by feature hash, then the shared
 * `possible_leakage` rule (@modelsmith/contracts `leakageScore`) per column against the upload's
 * target, on the sampled rows the split puts in train and validation.
 */
export class LeakageSampler {
  private readonly rows: { hash: string; fields: string[] }[] = [];
  private seen = 0;
  private readonly rand: () => number;

  constructor(
    seed: number,
    private readonly max = LEAKAGE_SAMPLE_ROWS,
  ) {
    this.rand = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  }

  add(hash: string, fields: string[]): void {
    this.seen++;
    if (this.rows.length < this.max) this.rows.push({ hash, fields });
    else {
      const j = Math.floor(this.rand() * this.seen);
      if (j < this.max) this.rows[j] = { hash, fields };
    }
  }

  /** Whether the sample holds fewer rows than were added. */
  get sampled(): boolean {
    return this.seen > this.rows.length;
  }

  warnings(opts: {
    header: string[];
    targetIdx: number;
    /** Per column: inferred type and whether it is constant (left out by training). */
    columns: { type: ColumnType; constant: boolean }[];
    samples: IndexedSample[];
    /** Class names by index (classification) or null (regression). */
    labels: string[] | null;
  }): DatasetWarning[] {
    const split = new Map<string, 'train' | 'validation'>();
    for (const s of opts.samples)
      if (s.split === 'train' || s.split === 'validation') split.set(s.hash, s.split);
    const classIndex = opts.labels ? new Map(opts.labels.map((l, i) => [l, i])) : null;
    const parts = { train: [] as string[][], validation: [] as string[][] };
    const ys = { train: [] as number[], validation: [] as number[] };
    for (const r of this.rows) {
      const s = split.get(r.hash);
      if (!s) continue;
      const raw = r.fields[opts.targetIdx].trim();
      const y = classIndex ? classIndex.get(raw) : Number(raw);
      if (y === undefined || !Number.isFinite(y)) continue;
      parts[s].push(r.fields);
      ys[s].push(y);
    }
    const out: DatasetWarning[] = [];
    opts.header.forEach((name, c) => {
      const { type, constant } = opts.columns[c];
      if (c === opts.targetIdx || constant || type === 'empty') return;
      const numeric = type === 'numeric' || type === 'boolean' || type === 'date';
      const cells = (rows: string[][]): LeakageCells =>
        numeric ? Float64Array.from(rows, (f) => cellNumber(f[c], type)) : rows.map((f) => categoryOf(f[c]));
      const w = leakageWarning(name, {
        task: classIndex ? 'classification' : 'regression',
        classes: opts.labels?.length ?? 1,
        train: { cells: cells(parts.train), y: ys.train },
        validation: { cells: cells(parts.validation), y: ys.validation },
      });
      if (w) out.push(w);
    });
    return out;
  }
}
