import { QuotaExceededError, TooManyActiveJobsError, UnroutableJobError } from '@modelsmith/jobs';
import { ProblemError } from '@modelsmith/http';
import { InvalidJobInputsError } from '@modelsmith/contracts';

/** Maps job-domain errors to problem+json; anything else passes through unchanged. */
export function jobProblem(e: unknown): unknown {
  if (e instanceof QuotaExceededError) {
    return new ProblemError({
      status: 403,
      code: 'QUOTA_EXCEEDED',
      title: 'Compute quota exceeded',
      detail: e.message,
      extensions: {
        usedMinutes: Math.round(e.usedMinutes * 10) / 10,
        limitMinutes: e.limitMinutes,
        resetsAt: e.resetsAt.toISOString(),
      },
    });
  }
  if (e instanceof TooManyActiveJobsError) {
    return new ProblemError({
      status: 429,
      code: 'RATE_LIMITED',
      title: 'Too many active jobs',
      detail: e.message,
      extensions: { activeJobs: e.active, limit: e.limit },
      headers: { 'Retry-After': String(e.retryAfterSeconds) },
    });
  }
  if (e instanceof InvalidJobInputsError) {
    return new ProblemError({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Job inputs rejected',
      detail: e.message,
    });
  }
  if (e instanceof UnroutableJobError) {
    return new ProblemError({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Job cannot be routed',
      detail: e.message,
    });
  }
  return e;
}
