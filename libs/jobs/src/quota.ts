import type { Prisma } from '@modelsmith/db';

type Tx = Prisma.TransactionClient;

/** A tenant may hold this many QUEUED+RUNNING jobs per concurrent-job slot (at least one slot). */
export const ACTIVE_JOBS_PER_SLOT = 10;
/** Retry-After (seconds) suggested when too many jobs are waiting. */
export const ACTIVE_JOBS_RETRY_AFTER_SECONDS = 30;

/** The tenant used up its compute minutes for this calendar month (UTC). */
export class QuotaExceededError extends Error {
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    readonly usedMinutes: number,
    readonly limitMinutes: number,
    readonly resetsAt: Date,
  ) {
    super(
      `this tenant has used ${usedMinutes.toFixed(1)} of its ${limitMinutes} compute minutes this month; ` +
        `the quota resets at ${resetsAt.toISOString()}`,
    );
    this.name = 'QuotaExceededError';
  }
}

/** The tenant already has as many QUEUED+RUNNING jobs as it may hold. */
export class TooManyActiveJobsError extends Error {
  readonly code = 'RATE_LIMITED';
  readonly retryAfterSeconds = ACTIVE_JOBS_RETRY_AFTER_SECONDS;
  constructor(
    readonly active: number,
    readonly limit: number,
  ) {
    super(
      `this tenant already has ${active} queued or running jobs (limit ${limit}); wait for some to finish`,
    );
    this.name = 'TooManyActiveJobsError';
  }
}

export interface QuotaUsage {
  /** Compute minutes of this calendar month (UTC): jobs finished this month or still unfinished. */
  usedMinutes: number;
  limitMinutes: number;
  activeJobs: number;
  activeJobsLimit: number;
  monthStart: Date;
  resetsAt: Date;
}

export function monthStartUtc(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function nextMonthStartUtc(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

export function activeJobsLimit(maxConcurrentJobs: number): number {
  return Math.max(1, maxConcurrentJobs) * ACTIVE_JOBS_PER_SLOT;
}

/** Reads the tenant's quota usage inside a tenant-scoped transaction. */
export async function readQuotaUsage(tx: Tx, tenantId: string, now = new Date()): Promise<QuotaUsage> {
  const tenant = await tx.tenant.findUniqueOrThrow({
    where: { id: tenantId },
    select: { maxConcurrentJobs: true, computeMinutesPerMonth: true },
  });
  const monthStart = monthStartUtc(now);
  // Sequential on purpose: one interactive transaction is one connection.
  const sum = await tx.job.aggregate({
    where: { tenantId, OR: [{ finishedAt: null }, { finishedAt: { gte: monthStart } }] },
    _sum: { computeSeconds: true },
  });
  const activeJobs = await tx.job.count({ where: { tenantId, status: { in: ['QUEUED', 'RUNNING'] } } });
  return {
    usedMinutes: (sum._sum.computeSeconds ?? 0) / 60,
    limitMinutes: tenant.computeMinutesPerMonth,
    activeJobs,
    activeJobsLimit: activeJobsLimit(tenant.maxConcurrentJobs),
    monthStart,
    resetsAt: nextMonthStartUtc(now),
  };
}

/** Throws QuotaExceededError or TooManyActiveJobsError when the tenant may not create another job. */
export function assertWithinQuota(u: QuotaUsage): void {
  if (u.usedMinutes >= u.limitMinutes)
    throw new QuotaExceededError(u.usedMinutes, u.limitMinutes, u.resetsAt);
  if (u.activeJobs >= u.activeJobsLimit) throw new TooManyActiveJobsError(u.activeJobs, u.activeJobsLimit);
}
