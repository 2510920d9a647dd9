import { call, startPlatform, waitFor, type Platform } from '../support/platform';

jest.setTimeout(240_000);

interface EventJson {
  seq: number;
  type: string;
  createdAt: string;
}

/**
 * The installation-wide limit and crash recovery of slots, with real processes: JOBS_GLOBAL_MAX_RUNNING=1
 * and a short heartbeat staleness window, so a SIGKILLed worker's slot frees within seconds.
 */
describe('jobs: global concurrency limit and slots of crashed workers (real API and worker processes)', () => {
  let p: Platform;

  const newTenant = async (body: Record<string, unknown> = {}): Promise<string> => {
    const r = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: `T ${Math.random()}`, ...body },
    });
    expect(r.status).toBe(201);
    return r.body.apiKey.key as string;
  };
  const createNoop = async (key: string, durationMs: number): Promise<string> => {
    const r = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'noop', options: { durationMs } },
    });
    expect(r.status).toBe(202);
    return r.body.id as string;
  };
  const untilStatus = (key: string, id: string, status: string, timeoutMs = 90_000) =>
    waitFor(
      `job ${id} to be ${status}`,
      async () => {
        const j = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key })).body;
        return j.status === status ? j : undefined;
      },
      timeoutMs,
    );
  const window = async (key: string, id: string) => {
    const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key })).body as EventJson[];
    const started = events.filter((e) => e.type === 'started');
    return {
      start: Date.parse(started[started.length - 1].createdAt),
      end: Date.parse(events[events.length - 1].createdAt),
    };
  };

  beforeAll(async () => {
    p = await startPlatform({
      WORKER_CONCURRENCY: '4',
      JOBS_GLOBAL_MAX_RUNNING: '1',
      JOBS_HEARTBEAT_STALE_SECONDS: '10',
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('runs one job at a time across tenants that each have free slots', async () => {
    const a = await newTenant({ maxConcurrentJobs: 5 });
    const b = await newTenant({ maxConcurrentJobs: 5 });
    const jobs = [
      { key: a, id: await createNoop(a, 1_200) },
      { key: b, id: await createNoop(b, 1_200) },
      { key: a, id: await createNoop(a, 1_200) },
    ];
    for (const j of jobs) await untilStatus(j.key, j.id, 'SUCCEEDED');
    const w = await Promise.all(jobs.map((j) => window(j.key, j.id)));
    const overlap = w.some((x, i) => w.some((y, k) => i !== k && x.start < y.end && y.start < x.end));
    expect(overlap).toBe(false);
  });

  it("frees a SIGKILLed worker's slot once its heartbeat goes stale, so waiting jobs run", async () => {
    const key = await newTenant({ maxConcurrentJobs: 1 });
    const stuck = await createNoop(key, 120_000);
    await untilStatus(key, stuck, 'RUNNING');
    const waiting = await createNoop(key, 300);
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${waiting}`, { token: key })).body.status).toBe('QUEUED');

    // The replacement is up before the crash, as in a deployment with several workers. Started after
    // it, a slow start-up (a loaded machine) could outlast the dead worker's BullMQ lock (15-30 s
    // left): the stuck job would then come back first, take the freed slot legitimately and hold it
    // for its two minutes, and the waiting job would not run in time.
    const [first] = p.workers;
    await p.startWorker();
    first.child.kill('SIGKILL');
    await first.exited;
    // The dead worker's job still says RUNNING, but its stale heartbeat (10 s) no longer holds the slot.
    await untilStatus(key, waiting, 'SUCCEEDED', 120_000);
    expect((await call(p.apiUrl, 'GET', `/v1/jobs/${stuck}`, { token: key })).body.status).toBe('RUNNING');
    expect((await call(p.apiUrl, 'POST', `/v1/jobs/${stuck}/cancel`, { token: key })).status).toBe(202);
  });
});
