import type { Job as BullJob } from 'bullmq';
import { bullJobName, JOBS } from '@modelsmith/contracts';
import type { JobStore } from '@modelsmith/jobs';
import type { JobContext, JobHandler } from './job-handler';
import { JobRunner } from './job-runner';

// The package index also loads its Nest queue module (ESM-only @nestjs/bullmq); the runner needs only
// the error classes.
jest.mock('@modelsmith/jobs', () => ({
  ...jest.requireActual<object>('@modelsmith/jobs/errors'),
  JobNotFoundError: class JobNotFoundError extends Error {},
}));

/** The order of what the runner records and calls, with a store that only keeps that record. */
function setup(handler: JobHandler) {
  const calls: string[] = [];
  const store = {
    startOrDefer: async () => {
      calls.push('start');
      return { id: 'j1', cancelRequestedAt: null };
    },
    finish: async (_ref: unknown, status: string) => {
      calls.push(`finish ${status}`);
      return null;
    },
    progress: async () => undefined,
    update: async () => undefined,
    isCancelRequested: async () => false,
  } as unknown as JobStore;
  const warnings: string[] = [];
  const runner = new JobRunner(store, new Map([[bullJobName(JOBS.noop), handler]]), {
    workerId: 'w1',
    shutdown: new AbortController().signal,
    logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
  });
  const bullJob = { name: bullJobName(JOBS.noop), data: { tenantId: 't1', jobId: 'j1' }, opts: { attempts: 3 }, attemptsMade: 0 } as unknown as BullJob;
  return { calls, warnings, run: () => runner.run(bullJob, 'token') };
}

describe('JobRunner', () => {
  it('runs afterSuccess only once the job is recorded SUCCEEDED, with the result', async () => {
    let seen: Record<string, unknown> | undefined;
    const { calls, run } = setup({
      handle: async () => {
        calls.push('handle');
        return { accuracy: 0.9 };
      },
      afterSuccess: async (ctx: JobContext, result) => {
        calls.push(`afterSuccess ${ctx.payload.jobId}`);
        seen = result;
      },
    });
    await expect(run()).resolves.toEqual({ accuracy: 0.9 });
    expect(calls).toEqual(['start', 'handle', 'finish SUCCEEDED', 'afterSuccess j1']);
    expect(seen).toEqual({ accuracy: 0.9 });
  });

  it('logs a failing afterSuccess and keeps the outcome', async () => {
    const { calls, warnings, run } = setup({
      handle: async () => ({ ok: true }),
      afterSuccess: async () => {
        throw new Error('object store away');
      },
    });
    await expect(run()).resolves.toEqual({ ok: true });
    expect(calls).toEqual(['start', 'finish SUCCEEDED']);
    expect(warnings).toEqual(['job j1 succeeded; its clean-up failed: object store away']);
  });

  it('does not run afterSuccess when the handler fails', async () => {
    const { calls, run } = setup({
      handle: async () => {
        throw new Error('boom');
      },
      afterSuccess: async () => {
        calls.push('afterSuccess');
      },
    });
    await expect(run()).rejects.toThrow('boom');
    expect(calls).not.toContain('afterSuccess');
    expect(calls).not.toContain('finish SUCCEEDED');
  });
});
