import { DATE_MAX, DATE_MIN, INT4_MAX, isDateInRange } from './bounds';

describe('bounds', () => {
  it('INT4_MAX is the largest Postgres integer', () => {
    expect(INT4_MAX).toBe(2 ** 31 - 1);
  });

  it('accepts dates from 1970 to the end of year 9999, refuses the rest and invalid dates', () => {
    expect(isDateInRange(new Date('2026-01-01T00:00:00Z'))).toBe(true);
    expect(isDateInRange(DATE_MIN)).toBe(true);
    expect(isDateInRange(DATE_MAX)).toBe(true);
    expect(isDateInRange(new Date(DATE_MIN.getTime() - 1))).toBe(false);
    expect(isDateInRange(new Date(DATE_MAX.getTime() + 1))).toBe(false);
    expect(isDateInRange(new Date('0000-01-01T00:00:00Z'))).toBe(false);
    expect(isDateInRange(new Date('+275760-09-13T00:00:00Z'))).toBe(false);
    expect(isDateInRange(new Date(3_000_000_000 * 1000 * 1000))).toBe(false);
    expect(isDateInRange(new Date('not a date'))).toBe(false);
  });
});
