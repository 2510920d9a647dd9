import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { bullJobName, JOBS, QUEUES } from '@modelsmith/contracts';
import { JobTakenOverError } from '@modelsmith/jobs';
import type { JobContext, JobHandler } from './job-handler';
import { JobRunner } from './job-runner';
import { TEST_REDIS, useJobsTestbed } from '../../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

const POLL_MS = 200;

/**
 * Two BullMQ deliveries of one job, as after a lost queue lock: delivery A is training when the
 * stalled check hands the job to delivery B (same worker process, same worker id). Real Postgres
 * (the job row) and Redis (BullMQ, manual fetching so the spec decides when the lock is lost).
 */
describe('JobRunner: a job delivered again while its first delivery runs', () => {
  const bed = useJobsTestbed({ queues: ['cpu'] });
  let worker: Worker;
  let redis: Redis;
  // Aborted after each test: a delivery still running when an expectation failed stops too.
  let shutdown: AbortController;
  beforeEach(() => {
    shutdown = new AbortController();
  });
  afterEach(() => {
    shutdown.abort();
  });

  beforeAll(() => {
    redis = new Redis(TEST_REDIS);
    // No processor: the spec fetches deliveries itself (getNextJob) and ends them as BullMQ's worker does.
    worker = new Worker(QUEUES.cpu, null, {
      connection: TEST_REDIS,
      prefix: bed.prefix,
      lockDuration: 30_000,
      stalledInterval: 100,
      maxStalledCount: 5,
    });
  });
  afterAll(async () => {
    await worker.close();
    redis.disconnect();
  });

  it('aborts the first delivery with JobTakenOverError; it writes nothing more and the second one finishes the job', async () => {
    const t = await bed.tenant();
    const row = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    await bed.cpu.add(
      bullJobName(JOBS.noop),
      { tenantId: t.id, jobId: row.id },
      { jobId: row.id, attempts: 3 },
    );

    let aAborted!: (at: number) => void;
    const aAbortedAt = new Promise<number>((r) => (aAborted = r));
    let aStarted!: () => void;
    const aRunning = new Promise<void>((r) => (aStarted = r));
    let bStartedAt = 0;
    let aReason: unknown;
    const warnings: string[] = [];
    let deliveries = 0;
    const handler: JobHandler = {
      handle: async (ctx: JobContext) => {
        if (++deliveries === 1) {
          // Delivery A: trains until it is stopped.
          await ctx.progress({ stage: 'training', percent: 10, message: 'a' });
          aStarted();
          await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
          aReason = ctx.signal.reason;
          aAborted(Date.now());
          // A write already on its way when the abort came: refused, not recorded.
          await ctx.progress({ stage: 'stale', percent: 99, message: 'a late' });
          ctx.throwIfStopped();
          return { by: 'a' };
        }
        // Delivery B: resumes, reports, and finishes once A has been stopped.
        bStartedAt = Date.now();
        await ctx.progress({ stage: 'training', percent: 60, message: 'b' });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([aAbortedAt, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
        return { by: 'b' };
      },
    };
    // One runner: the two deliveries run in the same process, under the same worker id.
    const runner = new JobRunner(bed.store, new Map([[bullJobName(JOBS.noop), handler]]), {
      workerId: 'w1',
      shutdown: shutdown.signal,
      cancelPollMs: POLL_MS,
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });

    const jobA = await worker.getNextJob('token-a');
    expect(jobA.id).toBe(row.id);
    const runA = runner.run(jobA, 'token-a');
    await aRunning;

    // A's lock is lost (its event loop starved past lockDuration): the stalled check moves the job
    // back to wait, and it is delivered again.
    await redis.del(`${bed.prefix}:${QUEUES.cpu}:${row.id}:lock`);
    // What the worker's stalled-check timer runs (private in BullMQ's typings).
    const stalledCheck = () =>
      (worker as unknown as { moveStalledJobsToWait(): Promise<void> }).moveStalledJobsToWait();
    await stalledCheck(); // marks the active job as a stall candidate
    await new Promise((r) => setTimeout(r, 300));
    await stalledCheck(); // no lock: back to wait
    const jobB = await worker.getNextJob('token-b');
    expect(jobB.id).toBe(row.id);
    const runB = runner.run(jobB, 'token-b');

    const resultA = await runA;
    expect(resultA).toEqual({ takenOver: true });
    expect(aReason).toBeInstanceOf(JobTakenOverError);
    // Within a few poll intervals of B's start (a loaded machine gets slack).
    expect((await aAbortedAt) - bStartedAt).toBeLessThan(10 * POLL_MS);
    expect(warnings).toEqual([
      expect.stringMatching(/attempt 2\) after this delivery's start \(attempt 1\)/),
    ]);

    // What BullMQ's worker does with A's return: its lock is B's, so Redis refuses to complete it...
    await expect(jobA.moveToCompleted(resultA, 'token-a', false)).rejects.toThrow(/lock/i);
    await expect(jobA.moveToFailed(new Error('x'), 'token-a', false)).rejects.toThrow(/lock/i);
    expect(await bed.cpu.getJobState(row.id)).toBe('active');

    // ...and B, untouched, finishes the job.
    await expect(runB).resolves.toEqual({ by: 'b' });
    await jobB.moveToCompleted({ by: 'b' }, 'token-b', false);
    expect(await bed.cpu.getJobState(row.id)).toBe('completed');

    const done = await bed.store.get(t.id, row.id);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      result: { by: 'b' },
      attempts: 2,
      workerId: 'w1',
      failureCode: null,
    });
    const events = await bed.store.events(t.id, row.id);
    expect(events.map((e) => [e.type, e.message])).toEqual([
      ['queued', null],
      ['started', 'started on worker w1'],
      ['progress', 'a'],
      ['started', 'resumed on worker w1'],
      ['progress', 'b'],
      ['succeeded', null],
    ]);
  });
  it("keeps the newer delivery's queue lock when the replaced one ends in the same process: no further takeover", async () => {
    const LOCK_MS = 3_000;
    const t = await bed.tenant();
    const row = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' });
    let aStarted!: () => void;
    const aRunning = new Promise<void>((r) => (aStarted = r));
    let deliveries = 0;
    const handler: JobHandler = {
      handle: async (ctx: JobContext) => {
        const n = ++deliveries;
        if (n === 1) {
          aStarted();
          await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
          ctx.throwIfStopped();
        }
        // The newer delivery trains for several lock durations.
        for (let i = 0; i < 40; i++) {
          await new Promise((r) => setTimeout(r, LOCK_MS / 10));
          ctx.throwIfStopped();
        }
        return { delivery: n };
      },
    };
    const runner = new JobRunner(bed.store, new Map([[bullJobName(JOBS.noop), handler]]), {
      workerId: 'w1',
      shutdown: shutdown.signal,
      cancelPollMs: 100,
      lockDurationMs: LOCK_MS,
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    // A worker as the platform runs it (processors.ts): lock renewal and the stalled check are BullMQ's.
    const errors: string[] = [];
    const live = new Worker(QUEUES.cpu, (job, token) => runner.run(job, token), {
      connection: TEST_REDIS,
      prefix: bed.prefix,
      concurrency: 2,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS / 3,
      maxStalledCount: 5,
    });
    live.on('error', (e) => errors.push(e.message));
    try {
      await bed.cpu.add(
        bullJobName(JOBS.noop),
        { tenantId: t.id, jobId: row.id },
        { jobId: row.id, attempts: 3 },
      );
      await aRunning;
      // A's lock is lost; the stalled check hands the job to this same worker again (B).
      await redis.del(`${bed.prefix}:${QUEUES.cpu}:${row.id}:lock`);
      const deadline = Date.now() + 40_000;
      while ((await bed.cpu.getJobState(row.id)) !== 'completed' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(await bed.cpu.getJobState(row.id)).toBe('completed');
    } finally {
      await live.close();
    }
    // B ran to its end: A's end (BullMQ refused to complete it) did not cost B its lock.
    expect(deliveries).toBe(2);
    expect(await bed.store.get(t.id, row.id)).toMatchObject({
      status: 'SUCCEEDED',
      result: { delivery: 2 },
      attempts: 2,
    });
    const types = (await bed.store.events(t.id, row.id)).map((e) => e.type);
    expect(types).toEqual(['queued', 'started', 'started', 'succeeded']);
    expect(errors.some((m) => /lock/i.test(m))).toBe(true);
  });
});
