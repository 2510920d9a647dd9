import {
  activeJobsLimit,
  assertWithinQuota,
  monthStartUtc,
  nextMonthStartUtc,
  QuotaExceededError,
  TooManyActiveJobsError,
  type QuotaUsage,
} from './quota';

const usage = (u: Partial<QuotaUsage>): QuotaUsage => ({
  usedMinutes: 0,
  limitMinutes: 600,
  activeJobs: 0,
  activeJobsLimit: 20,
  monthStart: new Date(0),
  resetsAt: new Date(0),
  ...u,
});

describe('quota', () => {
  it('computes UTC calendar month bounds', () => {
    const now = new Date('2026-12-31T23:30:00-05:00'); // 2027-01-01T04:30Z
    expect(monthStartUtc(now).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(nextMonthStartUtc(new Date('2026-12-15T00:00:00Z')).toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
  });

  it('allows ten active jobs per concurrent slot, at least one slot', () => {
    expect(activeJobsLimit(2)).toBe(20);
    expect(activeJobsLimit(0)).toBe(10);
  });

  it('refuses when minutes are used up (a zero quota refuses everything), then when too many jobs are active', () => {
    expect(() => assertWithinQuota(usage({}))).not.toThrow();
    expect(() => assertWithinQuota(usage({ limitMinutes: 0 }))).toThrow(QuotaExceededError);
    expect(() => assertWithinQuota(usage({ usedMinutes: 600 }))).toThrow(
      /used 600\.0 of its 600 compute minutes/,
    );
    expect(() => assertWithinQuota(usage({ activeJobs: 20 }))).toThrow(TooManyActiveJobsError);
    expect(() => assertWithinQuota(usage({ activeJobs: 19 }))).not.toThrow();
  });
});
