/**
 * How a tabular cell is read, shared by ingestion (libs/datasets: its leakage check), training and
 * prediction (libs/ml tabular, serving): rows come from CSV shards (every value a string) or from JSON
 * records sent to serving (numbers, strings, booleans, null); the same parsers read both, so a
 * prediction outside the platform reproduces the platform's.
 */

/** The tokens ingestion counts as missing (libs/datasets `isMissing`), compared trimmed and lower-cased. */
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?', '-']);
/** A plain decimal number (no hex, no Infinity), untrimmed. */
export const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', 'yes', 't', 'y', '1']);
const FALSE = new Set(['false', 'no', 'f', 'n', '0']);
const DATE =
  /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$|^\d{1,2}\/\d{1,2}\/\d{4}$/;

export function isMissingValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v === 'boolean') return false;
  if (typeof v === 'string') return MISSING.has(v.trim().toLowerCase());
  return false;
}

/** A finite number, NaN when missing, undefined when present but not a number. */
export function parseNumber(v: unknown): number | undefined {
  // Fast path for the common cell, an untrimmed number (never a missing token).
  if (typeof v === 'string' && NUMBER_PATTERN.test(v)) return Number(v);
  if (isMissingValue(v)) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return NUMBER_PATTERN.test(s) ? Number(s) : undefined;
}

/** 1 / 0, NaN when missing, undefined when not a boolean. */
export function parseBoolean(v: unknown): number | undefined {
  if (isMissingValue(v)) return NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v === 1 ? 1 : v === 0 ? 0 : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  return TRUE.has(s) ? 1 : FALSE.has(s) ? 0 : undefined;
}

/** Milliseconds since the epoch (UTC), NaN when missing, undefined when not a date. */
export function parseDate(v: unknown): number | undefined {
  if (isMissingValue(v)) return NaN;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!DATE.test(s)) return undefined;
  const slash = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  const [y, m, d] = slash
    ? [Number(slash[3]), Number(slash[1]), Number(slash[2])]
    : [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))];
  // Date.parse and Date.UTC roll impossible days over (2024-02-30 -> March 1): not a date here.
  if (!isCalendarDay(y, m, d)) return undefined;
  // Everything without an offset is read as UTC: m/d/yyyy, and date-times (Date.parse reads both in
  // the process's time zone, so a prediction would depend on where it runs; date-only ISO is UTC).
  let t: number;
  if (slash) t = Date.UTC(y, m - 1, d);
  else if (s.length === 10) t = Date.parse(s);
  else {
    const iso = `${s.slice(0, 10)}T${s.slice(11)}`;
    t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
  }
  return Number.isNaN(t) ? undefined : t;
}

/** Whether month `m` (1-12) of year `y` has a day `d`. */
export function isCalendarDay(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The category a cell stands for (trimmed text), or null when missing. */
export function categoryOf(v: unknown): string | null {
  if (isMissingValue(v)) return null;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}
