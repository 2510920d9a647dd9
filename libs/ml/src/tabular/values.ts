/**
 * Cell values of tabular rows. Rows come from CSV shards (every value a string) or from JSON
 * records sent to serving (numbers, strings, booleans, null). Both go through the same parsers so a
 * prediction outside the platform reproduces the platform's.
 */

import {
  categoryOf,
  isCalendarDay,
  isMissingValue,
  NUMBER_PATTERN,
  parseBoolean,
  parseDate,
  parseNumber,
} from '@modelsmith/contracts';

// The cell parsers live in @modelsmith/contracts (ingestion reads cells with them too).
export { categoryOf, isCalendarDay, isMissingValue, parseBoolean, parseDate, parseNumber };

/** A row: column name -> cell. */
export type TabularRow = Readonly<Record<string, unknown>>;

export type InferredKind = 'numeric' | 'boolean' | 'date' | 'categorical' | 'empty';

/** A column's kind from its values (the same rules as ingestion's column statistics, simplified). */
export function inferKind(values: readonly unknown[]): InferredKind {
  let present = 0;
  let numeric = 0;
  let bool = 0;
  let date = 0;
  const distinct = new Set<string>();
  for (const v of values) {
    if (isMissingValue(v)) continue;
    present++;
    const n = parseNumber(v);
    if (n !== undefined) numeric++;
    if (parseBoolean(v) !== undefined && (typeof v !== 'string' || !NUMBER_PATTERN.test(v.trim()))) bool++;
    if (n === undefined && parseDate(v) !== undefined) date++;
    if (distinct.size <= 3) distinct.add(String(v).trim().toLowerCase());
  }
  if (present === 0) return 'empty';
  if (numeric === present) return 'numeric';
  if (bool === present || (bool + numeric === present && bool > 0 && distinct.size <= 2)) return 'boolean';
  if (date === present) return 'date';
  return 'categorical';
}
