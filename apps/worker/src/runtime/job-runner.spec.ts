import type { Job as BullJob } from 'bullmq';
import { bullJobName, JOBS } from '@modelsmith/contracts';
import { JobTakenOverError, type JobStore } from '@modelsmith/jobs';
import type { JobContext, JobHandler } from './job-handler';
import { StorageError } from '@modelsmith/storage';
import { UnrecoverableError } from 'bullmq';
import { JobRunner } from './job-runner';

/** The order of what the runner records and calls, with a store that only keeps that record. */
function setup(
  handler: JobHandler,
  opts: {
    cancelRequested?: () => boolean;
    /** The row's `attempts` as the poll reads it (1: this delivery's own start). */
    attempts?: () => number;
    bullJob?: Partial<BullJob>;
    row?: Record<string, unknown>;
    loopHeldWarnMs?: number;
    lockDurationMs?: number;
  } = {},
) {
  const calls: string[] = [];
  const store = {
    startOrDefer: async () => {
      calls.push('start');
      return {
        id: 'j1',
        attempts: 1,
        cancelRequestedAt: null,
        datasetVersionId: null,
        modelId: null,
        mode: null,
        budget: null,
        options: null,
        ...opts.row,
      };
    },
    finish: async (
      _ref: unknown,
      status: string,
      o?: { failureCode?: string; owner?: number; commit?: (tx: unknown) => Promise<void> },
    ) => {
      calls.push(`finish ${status}${o?.failureCode ? ` ${o.failureCode}` : ''}`);
      if (o?.owner !== undefined && o.owner !== (opts.attempts?.() ?? 1))
        throw new JobTakenOverError(`owner ${o.owner} replaced`);
      // The store runs `commit` inside its transaction; here the "transaction" is a marker.
      await o?.commit?.('tx');
      return null;
    },
    progress: async () => undefined,
    requeue: async () => void calls.push('requeue'),
    update: async () => void calls.push('update'),
    heartbeat: async () => ({
      cancelRequested: opts.cancelRequested?.() ?? false,
      attempts: opts.attempts?.() ?? 1,
    }),
  } as unknown as JobStore;
  const warnings: string[] = [];
  const logs: string[] = [];
  const runner = new JobRunner(store, new Map([[bullJobName(JOBS.noop), handler]]), {
    workerId: 'w1',
    shutdown: new AbortController().signal,
    logger: { log: (m) => logs.push(m), warn: (m) => warnings.push(m), error: () => undefined },
    cancelPollMs: 5,
    loopHeldWarnMs: opts.loopHeldWarnMs,
    lockDurationMs: opts.lockDurationMs,
  });
  const bullJob = {
    name: bullJobName(JOBS.noop),
    data: { tenantId: 't1', jobId: 'j1' },
    opts: { attempts: 3 },
    attemptsMade: 0,
    ...opts.bullJob,
  } as unknown as BullJob;
  return { calls, warnings, logs, run: () => runner.run(bullJob, 'token') };
}

describe('JobRunner', () => {
  it('warns when the delivery held the event loop past the threshold, with how long', async () => {
    const HOLD_MS = 1_200;
    const { warnings, logs, run } = setup(
      {
        handle: async () => {
          // A handler reads before it computes (the histogram's first sample is its baseline).
          await new Promise((r) => setTimeout(r, 60));
          // Synchronous work, as a wasm or BLAS kernel is: nothing else on the loop runs meanwhile.
          const end = Date.now() + HOLD_MS;
          while (Date.now() < end);
          return {};
        },
      },
      { loopHeldWarnMs: 600, lockDurationMs: 2_000 },
    );
    await run();
    expect(warnings).toHaveLength(1);
    const m = /held up to (\d+\.\d) s at once \(p99 (\d+) ms\)/.exec(warnings[0]);
    expect(m).not.toBeNull();
    // The loop may be held longer than the busy-wait (a loaded machine), never much shorter.
    expect(Number(m![1])).toBeGreaterThanOrEqual((HOLD_MS - 150) / 1000);
    expect(warnings[0]).toContain("the queue lock's renewal (every 1.0 s)");
    expect(logs.some((l) => l.includes('event loop was held'))).toBe(false);
  });

  it('logs (does not warn) how long the loop was held when under the threshold', async () => {
    const { warnings, logs, run } = setup({ handle: async () => ({}) }, { loopHeldWarnMs: 60_000 });
    await run();
    expect(warnings).toEqual([]);
    expect(
      logs.filter((l) => /job j1: the event loop was held up to \d+\.\d s at once/.test(l)),
    ).toHaveLength(1);
  });

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

  it('hands commitOnSuccess writes to the SUCCEEDED finish, in order, and drops them on failure', async () => {
    const ok = setup({
      handle: async (ctx: JobContext) => {
        ctx.commitOnSuccess(async (tx) => void ok.calls.push(`write a in ${tx as unknown as string}`));
        ctx.commitOnSuccess(async (tx) => void ok.calls.push(`write b in ${tx as unknown as string}`));
        return {};
      },
    });
    await ok.run();
    expect(ok.calls).toEqual(['start', 'finish SUCCEEDED', 'write a in tx', 'write b in tx']);

    const failed = setup({
      handle: async (ctx: JobContext) => {
        ctx.commitOnSuccess(async () => void failed.calls.push('write'));
        throw new Error('boom');
      },
    });
    await failed.run().catch(() => undefined);
    // A retryable failure leaves the row to the next attempt; nothing was written.
    expect(failed.calls).toEqual(['start']);
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

  it('fails a job whose input object is gone at once (INPUT_NOT_FOUND), also when the error wraps it; other errors are retried', async () => {
    const missing = () =>
      new StorageError('OBJECT_NOT_FOUND', 'object "t1/datasets/d1/shard-0" does not exist');
    for (const thrown of [missing(), new Error('reading shard 0 failed', { cause: missing() })]) {
      const { calls, run } = setup({
        handle: async () => {
          throw thrown;
        },
      });
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect(calls).toContain('finish FAILED INPUT_NOT_FOUND');
    }
    const other = setup({
      handle: async () => {
        throw new StorageError('STORAGE_UNAVAILABLE', 'connection refused');
      },
    });
    const error = await other.run().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(other.calls.filter((c) => c.startsWith('finish'))).toEqual([]);
  });

  it('records a handler that returned as SUCCEEDED even when a cancel was flagged after its last step boundary', async () => {
    let flagged = false;
    const { calls, run } = setup(
      {
        handle: async (ctx) => {
          calls.push('handle');
          flagged = true;
          // The runner's poll sees the flag and aborts while the handler is past its last boundary.
          await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
          return { committed: true };
        },
      },
      { cancelRequested: () => flagged },
    );
    await expect(run()).resolves.toEqual({ committed: true });
    expect(calls).toEqual(['start', 'handle', 'finish SUCCEEDED']);
  });

  it('records a job CANCELLED when its handler stops at a step boundary after the cancel', async () => {
    let flagged = false;
    const { calls, run } = setup(
      {
        handle: async (ctx) => {
          flagged = true;
          await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
          ctx.throwIfStopped();
          return { committed: true };
        },
      },
      { cancelRequested: () => flagged },
    );
    await expect(run()).resolves.toEqual({ cancelled: true });
    expect(calls).toEqual(['start', 'finish CANCELLED']);
  });

  it('stops a delivery another one has started since, without writing to the row', async () => {
    let attempts = 1;
    let seen: unknown;
    const { calls, warnings, run } = setup(
      {
        handle: async (ctx) => {
          calls.push('handle');
          attempts = 2; // BullMQ delivered the job again and that delivery started it
          await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
          seen = ctx.signal.reason;
          ctx.throwIfStopped();
          return {};
        },
      },
      // A cancel flagged too is the newer delivery's to act on.
      { attempts: () => attempts, cancelRequested: () => attempts === 2 },
    );
    await expect(run()).resolves.toEqual({ takenOver: true });
    expect(seen).toBeInstanceOf(JobTakenOverError);
    expect(calls).toEqual(['start', 'handle']);
    expect(warnings).toEqual([
      expect.stringMatching(/attempt 2.*attempt 1.*leaves the job to the newer one/),
    ]);
  });

  it('a handler that returns after another delivery started the job: its finish is refused, afterSuccess does not run', async () => {
    let attempts = 1;
    const { calls, run } = setup(
      {
        handle: async () => {
          attempts = 2; // before the poll notices
          return { ok: true };
        },
        afterSuccess: async () => void calls.push('afterSuccess'),
      },
      { attempts: () => attempts },
    );
    await expect(run()).resolves.toEqual({ takenOver: true });
    expect(calls).toEqual(['start', 'finish SUCCEEDED']);
  });

  it('fails the job row of a delivery no handler exists for, and the delivery for good', async () => {
    const { calls, run } = setup({ handle: async () => ({}) }, { bullJob: { name: 'nobody.handles@v9' } });
    await expect(run()).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: 'no handler for job nobody.handles@v9',
    });
    expect(calls).toEqual(['finish FAILED JOB_UNKNOWN']);
  });

  it('hands the handler the row inputs parsed by the job definition', async () => {
    let seen: unknown;
    const { run } = setup(
      { handle: async (ctx) => void (seen = ctx.inputs) },
      { row: { options: { durationMs: 5, accelerator: 'cpu' } } },
    );
    await run();
    expect(seen).toEqual({ options: { durationMs: 5, accelerator: 'cpu' } });
  });

  it('fails a job whose row inputs do not parse, for good, without running the handler', async () => {
    const { calls, run } = setup(
      {
        handle: async () => {
          calls.push('handle');
        },
      },
      { row: { options: { durationMs: -1 } } },
    );
    await expect(run()).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: expect.stringMatching(/options\.durationMs/),
    });
    expect(calls).toEqual(['start', 'finish FAILED INVALID_JOB_INPUTS']);
  });

  it('fails a delivery whose payload names no job row without touching any row', async () => {
    const { calls, run } = setup({ handle: async () => ({}) }, { bullJob: { data: { tenantId: 't1' } } });
    await expect(run()).rejects.toMatchObject({ name: 'UnrecoverableError' });
    expect(calls).toEqual([]);
  });
});
