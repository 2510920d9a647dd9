import { DelayedError } from 'bullmq';
import { followJobEvents } from './follow-events';
import { JobTakenOverError } from './errors';
import { JobNotFoundError, JobStateConflictError } from './job-store';
import { WAITING_STAGE, type ConcurrencyLimits } from './limits';
import { QuotaExceededError, TooManyActiveJobsError } from './quota';
import { useJobsTestbed } from '../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

describe('JobStore against Postgres', () => {
  const limits: ConcurrencyLimits = { globalMaxRunning: 0, heartbeatStaleMs: 60_000 };
  const bed = useJobsTestbed({ systemPoolSize: 4, appPoolSize: 8, limits });

  const noop = (tenantId: string) => bed.store.create(tenantId, { kind: 'NOOP', queue: 'cpu' });
  const ref = (tenantId: string, jobId: string) => ({ tenantId, jobId });
  const backdateHeartbeat = (id: string, ms: number) =>
    bed.system.job.update({ where: { id }, data: { heartbeatAt: new Date(Date.now() - ms) } });

  describe('state machine', () => {
    it('creates a QUEUED row with a first `queued` event', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      expect(job).toMatchObject({ status: 'QUEUED', attempts: 0, enqueuedAt: null, computeSeconds: 0 });
      expect((await bed.store.events(t.id, job.id)).map((e) => [e.seq, e.type])).toEqual([[1, 'queued']]);
    });

    it('starts and finishes once; repeated deliveries and finishes are no-ops', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      const started = await bed.store.start(ref(t.id, job.id), 'w1');
      expect(started).toMatchObject({ status: 'RUNNING', workerId: 'w1', attempts: 1 });
      // A redelivery of a RUNNING job (its worker died) resumes it.
      expect(await bed.store.start(ref(t.id, job.id), 'w2')).toMatchObject({
        status: 'RUNNING',
        workerId: 'w2',
        attempts: 2,
      });
      expect(await bed.store.finish(ref(t.id, job.id), 'SUCCEEDED', { result: { ok: true } })).toMatchObject({
        status: 'SUCCEEDED',
        percent: 100,
      });
      expect(await bed.store.finish(ref(t.id, job.id), 'FAILED', { failureCode: 'X' })).toBeNull();
      expect(await bed.store.start(ref(t.id, job.id), 'w3')).toBeNull();
      expect(await bed.store.tryStart(ref(t.id, job.id), 'w3')).toEqual({ outcome: 'finished' });
      await bed.store.progress(ref(t.id, job.id), { percent: 5 });
      const after = await bed.store.get(t.id, job.id);
      expect(after).toMatchObject({
        status: 'SUCCEEDED',
        percent: 100,
        failureCode: null,
        result: { ok: true },
      });
      const types = (await bed.store.events(t.id, job.id)).map((e) => e.type);
      expect(types).toEqual(['queued', 'started', 'started', 'succeeded']);
    });

    it('numbers events 1..n without gaps or duplicates under concurrent writers', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      await bed.store.start(ref(t.id, job.id), 'w');
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          bed.store.progress(ref(t.id, job.id), { percent: i, message: `p${i}` }),
        ),
      );
      const seqs = (await bed.store.events(t.id, job.id)).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      expect((await bed.store.events(t.id, job.id, 10)).map((e) => e.seq)).toEqual([11, 12, 13, 14]);
    });

    it('progressMany appends its events in order, numbered on beside concurrent writers, the row from the last; none after the end', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      await bed.store.start(ref(t.id, job.id), 'w');
      const many = Array.from({ length: 5 }, (_, i) => ({
        stage: 'training',
        percent: 10 + i,
        message: `e${i}`,
      }));
      await Promise.all([
        bed.store.progressMany(ref(t.id, job.id), many, 'metrics'),
        bed.store.progress(ref(t.id, job.id), { percent: 3, message: 'other' }),
      ]);
      const events = await bed.store.events(t.id, job.id);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const metrics = events.filter((e) => e.type === 'metrics');
      expect(metrics.map((e) => e.message)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
      // Consecutive: one transaction.
      expect(metrics.map((e) => e.seq)).toEqual(Array.from({ length: 5 }, (_, i) => metrics[0].seq + i));
      const row = await bed.store.get(t.id, job.id);
      expect(row?.percent).toBe(events.at(-1)?.message === 'other' ? 3 : 14);
      await bed.store.finish(ref(t.id, job.id), 'SUCCEEDED', {});
      await bed.store.progressMany(ref(t.id, job.id), many, 'metrics');
      expect((await bed.store.events(t.id, job.id)).length).toBe(9);
    });

    it('cancels a QUEUED job at once and refuses to cancel it twice', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      expect(await bed.store.requestCancel(t.id, job.id)).toMatchObject({ status: 'CANCELLED' });
      await expect(bed.store.requestCancel(t.id, job.id)).rejects.toBeInstanceOf(JobStateConflictError);
      expect(await bed.store.start(ref(t.id, job.id), 'w')).toBeNull();
      expect((await bed.store.events(t.id, job.id)).map((e) => e.type)).toEqual(['queued', 'cancelled']);
    });

    it('flags a RUNNING job for cancellation; the runner finishes it as CANCELLED', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      await bed.store.start(ref(t.id, job.id), 'w');
      expect(await bed.store.isCancelRequested(ref(t.id, job.id))).toBe(false);
      const flagged = await bed.store.requestCancel(t.id, job.id);
      expect(flagged).toMatchObject({ status: 'RUNNING' });
      expect(flagged?.cancelRequestedAt).toBeInstanceOf(Date);
      expect(await bed.store.isCancelRequested(ref(t.id, job.id))).toBe(true);
      // Asking again keeps the first request time.
      expect((await bed.store.requestCancel(t.id, job.id))?.cancelRequestedAt).toEqual(
        flagged?.cancelRequestedAt,
      );
      expect(await bed.store.finish(ref(t.id, job.id), 'CANCELLED')).toMatchObject({ status: 'CANCELLED' });
      expect((await bed.store.events(t.id, job.id)).map((e) => e.type)).toEqual([
        'queued',
        'started',
        'cancelled',
      ]);
    });

    it("treats another tenant's job as absent", async () => {
      const a = await bed.tenant();
      const b = await bed.tenant();
      const job = await noop(a.id);
      expect(await bed.store.get(b.id, job.id)).toBeNull();
      expect(await bed.store.events(b.id, job.id)).toEqual([]);
      expect(await bed.store.requestCancel(b.id, job.id)).toBeNull();
      await expect(bed.store.start(ref(b.id, job.id), 'w')).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(bed.store.finish(ref(b.id, job.id), 'FAILED')).rejects.toBeInstanceOf(JobNotFoundError);
      expect(await bed.store.get(a.id, job.id)).toMatchObject({ status: 'QUEUED' });
    });
  });

  describe('concurrency limits', () => {
    it('holds a bed.tenant to maxConcurrentJobs; a throttled job waits QUEUED with one event, then starts when a slot frees', async () => {
      const t = await bed.tenant({ maxConcurrentJobs: 1 });
      const j1 = await noop(t.id);
      const j2 = await noop(t.id);
      expect((await bed.store.tryStart(ref(t.id, j1.id), 'w')).outcome).toBe('started');
      expect(await bed.store.tryStart(ref(t.id, j2.id), 'w')).toEqual({
        outcome: 'throttled',
        scope: 'tenant',
        running: 1,
        limit: 1,
      });
      expect((await bed.store.tryStart(ref(t.id, j2.id), 'w')).outcome).toBe('throttled');
      expect(await bed.store.get(t.id, j2.id)).toMatchObject({
        status: 'QUEUED',
        stage: WAITING_STAGE,
        attempts: 0,
      });
      expect((await bed.store.events(t.id, j2.id)).map((e) => e.type)).toEqual(['queued', 'log']);

      await bed.store.finish(ref(t.id, j1.id), 'SUCCEEDED');
      const r = await bed.store.tryStart(ref(t.id, j2.id), 'w');
      expect(r.outcome).toBe('started');
      expect(r.outcome === 'started' && r.job).toMatchObject({ status: 'RUNNING', stage: null, attempts: 1 });
    });

    it('frees the slot of a job whose heartbeat went stale (crashed worker)', async () => {
      const t = await bed.tenant({ maxConcurrentJobs: 1 });
      const dead = await noop(t.id);
      const next = await noop(t.id);
      await bed.store.tryStart(ref(t.id, dead.id), 'w-dead');
      expect((await bed.store.tryStart(ref(t.id, next.id), 'w')).outcome).toBe('throttled');
      await backdateHeartbeat(dead.id, limits.heartbeatStaleMs + 1_000);
      expect((await bed.store.tryStart(ref(t.id, next.id), 'w')).outcome).toBe('started');
      // The dead job, redelivered, now waits for the slot instead of running beside `next`.
      expect((await bed.store.tryStart(ref(t.id, dead.id), 'w2')).outcome).toBe('throttled');
      expect(await bed.store.get(t.id, dead.id)).toMatchObject({
        status: 'QUEUED',
        workerId: null,
        heartbeatAt: null,
      });
    });

    it('admits exactly maxConcurrentJobs of many simultaneous starts', async () => {
      const t = await bed.tenant({ maxConcurrentJobs: 2 });
      const jobs = await Promise.all(Array.from({ length: 6 }, () => noop(t.id)));
      const results = await Promise.all(jobs.map((j, i) => bed.store.tryStart(ref(t.id, j.id), `w${i}`)));
      expect(results.filter((r) => r.outcome === 'started')).toHaveLength(2);
      expect(results.filter((r) => r.outcome === 'throttled')).toHaveLength(4);
    });

    it('holds all tenants to the global limit', async () => {
      const a = await bed.tenant({ maxConcurrentJobs: 5 });
      const b = await bed.tenant({ maxConcurrentJobs: 5 });
      const ja = await noop(a.id);
      const jb = await noop(b.id);
      const running = await bed.system.job.count({
        where: { status: 'RUNNING', heartbeatAt: { gt: new Date(Date.now() - limits.heartbeatStaleMs) } },
      });
      const global = { ...limits, globalMaxRunning: running + 1 };
      expect((await bed.store.tryStart(ref(a.id, ja.id), 'w', global)).outcome).toBe('started');
      expect(await bed.store.tryStart(ref(b.id, jb.id), 'w', global)).toMatchObject({
        outcome: 'throttled',
        scope: 'global',
        limit: running + 1,
      });
      await bed.store.finish(ref(a.id, ja.id), 'SUCCEEDED');
      expect((await bed.store.tryStart(ref(b.id, jb.id), 'w', global)).outcome).toBe('started');
    });

    it('startOrDefer moves a throttled delivery to the delayed set and throws DelayedError', async () => {
      const t = await bed.tenant({ maxConcurrentJobs: 0 });
      const job = await noop(t.id);
      const moves: Array<[number, string | undefined]> = [];
      const delivery = { moveToDelayed: async (ts: number, token?: string) => void moves.push([ts, token]) };
      const before = Date.now();
      await expect(bed.store.startOrDefer(ref(t.id, job.id), 'w', delivery, 'tok')).rejects.toBeInstanceOf(
        DelayedError,
      );
      expect(moves).toHaveLength(1);
      expect(moves[0][0]).toBeGreaterThan(before);
      expect(moves[0][1]).toBe('tok');
      const t2 = await bed.tenant({ maxConcurrentJobs: 1 });
      const ok = await noop(t2.id);
      expect(await bed.store.startOrDefer(ref(t2.id, ok.id), 'w', delivery, 'tok')).toMatchObject({
        status: 'RUNNING',
      });
      expect(moves).toHaveLength(1);
    });
  });

  describe('ownership (a delivery replaced by a newer start of the same job)', () => {
    it('refuses the progress, update, requeue and finish of the replaced delivery; the newer one writes and finishes', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      const r = ref(t.id, job.id);
      const a = (await bed.store.start(r, 'w1'))!;
      await bed.store.progress(r, { percent: 10, message: 'a' }, 'progress', a.attempts);
      // BullMQ delivered the job again (A's queue lock was lost), on the same worker process.
      const b = (await bed.store.start(r, 'w1'))!;
      expect([a.attempts, b.attempts]).toEqual([1, 2]);

      await expect(
        bed.store.progress(r, { percent: 90, stage: 'stale' }, 'progress', a.attempts),
      ).rejects.toThrow(JobTakenOverError);
      await expect(bed.store.progressMany(r, [{ percent: 91 }], 'metrics', a.attempts)).rejects.toThrow(
        JobTakenOverError,
      );
      await expect(bed.store.update(r, { bestMetric: 0.1 }, a.attempts)).rejects.toThrow(JobTakenOverError);
      await expect(bed.store.requeue(r, 'shutting down', a.attempts)).rejects.toThrow(JobTakenOverError);
      await expect(
        bed.store.finish(r, 'FAILED', { failureCode: 'X', failureReason: 'stale', owner: a.attempts }),
      ).rejects.toMatchObject({ code: 'JOB_TAKEN_OVER' });
      expect(await bed.store.get(t.id, job.id)).toMatchObject({
        status: 'RUNNING',
        percent: 10,
        stage: null,
        bestMetric: null,
      });

      await bed.store.progress(r, { percent: 50 }, 'progress', b.attempts);
      await bed.store.update(r, { bestMetric: 0.5 }, b.attempts);
      expect((await bed.store.get(t.id, job.id))?.bestMetric).toBeCloseTo(0.5, 9);
      let committed = false;
      const done = await bed.store.finish(r, 'SUCCEEDED', {
        result: { by: 'b' },
        owner: b.attempts,
        commit: async () => void (committed = true),
      });
      expect(done).toMatchObject({ status: 'SUCCEEDED', result: { by: 'b' } });
      expect(committed).toBe(true);

      // The replaced delivery ending after the newer one finished changes nothing either (no commit).
      let staleCommit = false;
      await expect(
        bed.store.finish(r, 'SUCCEEDED', {
          result: { by: 'a' },
          owner: a.attempts,
          commit: async () => void (staleCommit = true),
        }),
      ).rejects.toThrow(JobTakenOverError);
      expect(staleCommit).toBe(false);
      expect(await bed.store.get(t.id, job.id)).toMatchObject({ status: 'SUCCEEDED', result: { by: 'b' } });
      // Without an owner, a finish is a no-op on an ended job as before.
      expect(await bed.store.finish(r, 'FAILED')).toBeNull();
      const events = await bed.store.events(t.id, job.id);
      expect(events.map((e) => e.type)).toEqual([
        'queued',
        'started',
        'progress',
        'started',
        'progress',
        'succeeded',
      ]);
      expect(events[3]).toMatchObject({
        message: 'resumed on worker w1',
        data: { attempt: 2, resumed: true },
      });
    });

    it('heartbeat names the last delivery to start the job and keeps the row alive only for it', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      const r = ref(t.id, job.id);
      const a = (await bed.store.start(r, 'w1'))!;
      expect(await bed.store.heartbeat(r, a.attempts)).toEqual({ cancelRequested: false, attempts: 1 });
      const b = (await bed.store.start(r, 'w2'))!;
      await backdateHeartbeat(job.id, 20_000);
      // The replaced delivery's poll: told who owns the row now, and it refreshes nothing.
      expect(await bed.store.heartbeat(r, a.attempts)).toEqual({ cancelRequested: false, attempts: 2 });
      const stale = await bed.store.get(t.id, job.id);
      expect(Date.now() - stale!.heartbeatAt!.getTime()).toBeGreaterThanOrEqual(19_000);
      expect(stale!.computeSeconds).toBe(0);
      await bed.store.requestCancel(t.id, job.id);
      expect(await bed.store.heartbeat(r, b.attempts)).toEqual({ cancelRequested: true, attempts: 2 });
      const fresh = await bed.store.get(t.id, job.id);
      expect(Date.now() - fresh!.heartbeatAt!.getTime()).toBeLessThan(5_000);
      expect(fresh!.computeSeconds).toBeGreaterThanOrEqual(19.5);
      expect(await bed.store.heartbeat(ref(t.id, '00000000-0000-0000-0000-000000000000'))).toEqual({
        cancelRequested: false,
        attempts: null,
      });
    });

    it("requeue hands the owner's job back: QUEUED, no worker or heartbeat, one requeued event; an ended job is left alone", async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      const r = ref(t.id, job.id);
      const a = (await bed.store.start(r, 'w1'))!;
      await bed.store.requeue(r, 'the worker is shutting down', a.attempts);
      expect(await bed.store.get(t.id, job.id)).toMatchObject({
        status: 'QUEUED',
        workerId: null,
        heartbeatAt: null,
      });
      const b = (await bed.store.start(r, 'w2'))!;
      await bed.store.finish(r, 'SUCCEEDED', { owner: b.attempts });
      await bed.store.requeue(r, 'late', b.attempts);
      expect((await bed.store.get(t.id, job.id))?.status).toBe('SUCCEEDED');
      expect((await bed.store.events(t.id, job.id)).map((e) => [e.type, e.message])).toEqual([
        ['queued', null],
        ['started', 'started on worker w1'],
        ['requeued', 'the worker is shutting down'],
        ['started', 'started on worker w2'],
        ['succeeded', null],
      ]);
    });
  });

  describe('compute time', () => {
    it('adds wall time between heartbeats to computeSeconds, refreshed by the cancel poll and on finish', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      await bed.store.start(ref(t.id, job.id), 'w');
      await backdateHeartbeat(job.id, 20_000);
      await bed.store.isCancelRequested(ref(t.id, job.id));
      const mid = await bed.store.get(t.id, job.id);
      expect(mid!.computeSeconds).toBeGreaterThanOrEqual(19.5);
      expect(mid!.computeSeconds).toBeLessThan(25);
      expect(Date.now() - mid!.heartbeatAt!.getTime()).toBeLessThan(5_000);

      await backdateHeartbeat(job.id, 10_000);
      await bed.store.progress(ref(t.id, job.id), { percent: 50 });
      await backdateHeartbeat(job.id, 5_000);
      const done = await bed.store.finish(ref(t.id, job.id), 'SUCCEEDED');
      expect(done!.computeSeconds).toBeGreaterThanOrEqual(34.5);
      expect(done!.computeSeconds).toBeLessThan(40);
    });

    it('takes back time spent only waiting (uncharge), never below zero', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      await bed.store.start(ref(t.id, job.id), 'w');
      await backdateHeartbeat(job.id, 30_000);
      await bed.store.isCancelRequested(ref(t.id, job.id));
      await bed.store.uncharge(ref(t.id, job.id), 12);
      const mid = await bed.store.get(t.id, job.id);
      expect(mid!.computeSeconds).toBeGreaterThanOrEqual(17.5);
      expect(mid!.computeSeconds).toBeLessThan(23);
      await bed.store.uncharge(ref(t.id, job.id), 1_000);
      expect((await bed.store.get(t.id, job.id))!.computeSeconds).toBe(0);
      // Another tenant's job id is not touched.
      const other = await bed.tenant();
      const theirs = await noop(other.id);
      await bed.system.job.update({ where: { id: theirs.id }, data: { computeSeconds: 50 } });
      await bed.store.uncharge(ref(t.id, theirs.id), 10);
      expect((await bed.store.get(other.id, theirs.id))!.computeSeconds).toBe(50);
    });

    it('does not bill the silence of a dead worker beyond the staleness window', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      await bed.store.start(ref(t.id, job.id), 'w');
      await backdateHeartbeat(job.id, 3_600_000);
      const done = await bed.store.finish(ref(t.id, job.id), 'FAILED', { failureCode: 'X' });
      expect(done!.computeSeconds).toBeLessThanOrEqual(limits.heartbeatStaleMs / 1000);
    });
  });

  describe('quotas on create', () => {
    it('refuses a job once the monthly compute minutes are used; last month does not count', async () => {
      const t = await bed.tenant({ computeMinutesPerMonth: 2 });
      const old = await noop(t.id);
      const lastMonth = new Date(
        Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1) - 86_400_000,
      );
      await bed.system.job.update({
        where: { id: old.id },
        data: { status: 'SUCCEEDED', finishedAt: lastMonth, computeSeconds: 10_000 },
      });
      const used = await noop(t.id);
      await bed.system.job.update({
        where: { id: used.id },
        data: { status: 'SUCCEEDED', finishedAt: new Date(), computeSeconds: 90 },
      });
      await expect(
        bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' }, { enforceQuota: true }),
      ).resolves.toBeDefined();
      const running = await bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' }, { enforceQuota: true });
      await bed.system.job.update({
        where: { id: running.id },
        data: { status: 'RUNNING', computeSeconds: 30 },
      });
      const err = await bed.store
        .create(t.id, { kind: 'NOOP', queue: 'cpu' }, { enforceQuota: true })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QuotaExceededError);
      expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', usedMinutes: 2, limitMinutes: 2 });
      expect((err as Error).message).toMatch(/used 2\.0 of its 2 compute minutes/);
    });

    it('refuses more than 10 active jobs per concurrent slot, even when created at once', async () => {
      const t = await bed.tenant({ maxConcurrentJobs: 1 });
      const results = await Promise.allSettled(
        Array.from({ length: 14 }, () =>
          bed.store.create(t.id, { kind: 'NOOP', queue: 'cpu' }, { enforceQuota: true }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(4);
      for (const r of rejected) expect(r.reason).toBeInstanceOf(TooManyActiveJobsError);
      expect(rejected[0].reason).toMatchObject({
        code: 'RATE_LIMITED',
        active: 10,
        limit: 10,
        retryAfterSeconds: 30,
      });
    });
  });

  describe('followJobEvents', () => {
    it('yields events in order after a seq and returns after the terminal event', async () => {
      const t = await bed.tenant();
      const job = await noop(t.id);
      const ac = new AbortController();
      const seen: string[] = [];
      const following = (async () => {
        for await (const e of followJobEvents(bed.store, t.id, job.id, 0, { signal: ac.signal, pollMs: 50 }))
          seen.push(`${e.seq}:${e.type}`);
      })();
      await bed.store.start(ref(t.id, job.id), 'w');
      await bed.store.progress(ref(t.id, job.id), { percent: 50 });
      await bed.store.finish(ref(t.id, job.id), 'SUCCEEDED');
      await following;
      expect(seen).toEqual(['1:queued', '2:started', '3:progress', '4:succeeded']);

      const resumed: number[] = [];
      for await (const e of followJobEvents(bed.store, t.id, job.id, 2, { signal: ac.signal }))
        resumed.push(e.seq);
      expect(resumed).toEqual([3, 4]);
      // Everything seen already: ends at once.
      for await (const e of followJobEvents(bed.store, t.id, job.id, 4, { signal: ac.signal }))
        throw new Error(`unexpected ${e.seq}`);
    });

    it('stops when aborted and yields nothing for another tenant', async () => {
      const t = await bed.tenant();
      const other = await bed.tenant();
      const job = await noop(t.id);
      for await (const e of followJobEvents(bed.store, other.id, job.id, 0, {
        signal: new AbortController().signal,
      }))
        throw new Error(`leak ${e.seq}`);
      const ac = new AbortController();
      const seen: number[] = [];
      setTimeout(() => ac.abort(), 300);
      for await (const e of followJobEvents(bed.store, t.id, job.id, 0, { signal: ac.signal, pollMs: 50 }))
        seen.push(e.seq);
      expect(seen).toEqual([1]);
    });
  });
});
