import type { ColumnStats, ColumnType } from '../stats/report-types';

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?', '-']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = new Set(['true', 'false', 'yes', 'no', 't', 'f', 'y', 'n']);
const DATE =
  /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$|^\d{1,2}\/\d{1,2}\/\d{4}$/;
const MAX_DISTINCT = 1000;

/**
 * A date cell: YYYY-MM-DD[Thh:mm[:ss]] or M/D/YYYY naming a real calendar day (2024-02-30 is not one,
 * though Date.parse rolls it over to March 1). The same rule as training's `parseDate` (libs/ml).
 */
export function isDate(value: string): boolean {
  if (!DATE.test(value) || Number.isNaN(Date.parse(value))) return false;
  const slash = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  const [y, m, d] = slash
    ? [Number(slash[3]), Number(slash[1]), Number(slash[2])]
    : [Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10))];
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export function isMissing(value: string): boolean {
  return MISSING.has(value.trim().toLowerCase());
}

/** Infers one column's type and summary while streaming its values. Memory is bounded. */
export class ColumnAccumulator {
  private missing = 0;
  private present = 0;
  private numeric = 0;
  private boolean = 0;
  private date = 0;
  private integers = 0;
  private totalLength = 0;
  private sum = 0;
  private sumSq = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly distinct = new Map<string, number>();
  private distinctCapped = false;

  constructor(readonly name: string) {}

  add(raw: string): void {
    const value = raw.trim();
    if (isMissing(value)) {
      this.missing += 1;
      return;
    }
    this.present += 1;
    this.totalLength += value.length;
    const lower = value.toLowerCase();
    if (NUMBER.test(value)) {
      this.numeric += 1;
      const x = Number(value);
      if (Number.isInteger(x)) this.integers += 1;
      this.sum += x;
      this.sumSq += x * x;
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
    } else if (BOOLEAN.has(lower)) this.boolean += 1;
    else if (isDate(value)) this.date += 1;
    const n = this.distinct.get(value);
    if (n !== undefined) this.distinct.set(value, n + 1);
    else if (this.distinct.size < MAX_DISTINCT) this.distinct.set(value, 1);
    else this.distinctCapped = true;
  }

  type(): ColumnType {
    if (this.present === 0) return 'empty';
    if (this.numeric === this.present) return 'numeric';
    if (this.boolean + this.numeric === this.present && this.boolean > 0 && this.distinct.size <= 2)
      return 'boolean';
    if (this.boolean === this.present) return 'boolean';
    if (this.date === this.present) return 'date';
    const fewValues = !this.distinctCapped && this.distinct.size <= Math.max(20, 0.05 * this.present);
    if (fewValues) return 'categorical';
    return this.totalLength / this.present >= 20 ? 'text' : 'categorical';
  }

  /** Integer-valued numeric column with few values (e.g. 0/1/2 class ids). */
  looksLikeClassIds(): boolean {
    return (
      this.type() === 'numeric' &&
      this.integers === this.numeric &&
      !this.distinctCapped &&
      this.distinct.size <= 20
    );
  }

  topValues(limit: number): { value: string; count: number }[] {
    return [...this.distinct.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([value, count]) => ({ value, count }));
  }

  numericSummary(): { min: number; max: number; mean: number; std: number } | undefined {
    if (this.numeric === 0) return undefined;
    const mean = this.sum / this.numeric;
    const variance = Math.max(0, this.sumSq / this.numeric - mean * mean);
    const r = (x: number): number => Math.round(x * 1e6) / 1e6;
    return { min: this.min, max: this.max, mean: r(mean), std: r(Math.sqrt(variance)) };
  }

  result(): ColumnStats {
    const type = this.type();
    const stats: ColumnStats = {
      name: this.name,
      type,
      missing: this.missing,
      distinct: this.distinct.size,
      distinctCapped: this.distinctCapped,
    };
    if (type === 'numeric') stats.numeric = this.numericSummary();
    if (type === 'categorical' || type === 'boolean') stats.topValues = this.topValues(10);
    return stats;
  }
}
