/**
 * Ranges every number and date a client sends must fall in. Prisma refuses values its column types
 * cannot hold (an Int outside int4, a DateTime Postgres cannot store) with an error that would
 * otherwise surface as a 500; the DTOs bound every field to these instead (or tighter).
 */

/** Largest value of a Postgres `integer` (int4) column. */
export const INT4_MAX = 2_147_483_647;

/** Earliest instant the API accepts in a date field or query (before any row it stores). */
export const DATE_MIN = new Date('1970-01-01T00:00:00.000Z');
/** Latest instant the API accepts: the last millisecond of year 9999 (four-digit ISO 8601 years). */
export const DATE_MAX = new Date('9999-12-31T23:59:59.999Z');

/** Whether `d` is a valid date inside [DATE_MIN, DATE_MAX]. */
export function isDateInRange(d: Date): boolean {
  const t = d.getTime();
  return Number.isFinite(t) && t >= DATE_MIN.getTime() && t <= DATE_MAX.getTime();
}
