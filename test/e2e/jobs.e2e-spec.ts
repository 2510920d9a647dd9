import { call, startPlatform, waitFor, type Platform } from '../support/platform';

jest.setTimeout(240_000);

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

interface SseRead {
  status: number;
  contentType: string | null;
  messages: SseMessage[];
  /** True when the server closed the stream (rather than the reader stopping early or timing out). */
  ended: boolean;
  body?: string;
}

/** Reads an SSE response: until the server ends it, `stopAfter` messages arrived, or the timeout. */
async function readSse(
  url: string,
  token: string,
  opts: { headers?: Record<string, string>; stopAfter?: number; timeoutMs?: number } = {},
): Promise<SseRead> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 60_000);
  const messages: SseMessage[] = [];
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...opts.headers },
      signal: ac.signal,
    });
    const contentType = res.headers.get('content-type');
    if (!contentType?.startsWith('text/event-stream') || !res.body) {
      return { status: res.status, contentType, messages, ended: true, body: await res.text() };
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch {
        return { status: res.status, contentType, messages, ended: false };
      }
      if (chunk.done) return { status: res.status, contentType, messages, ended: true };
      buffer += decoder.decode(chunk.value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const msg: SseMessage = { data: '' };
        let hasData = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'id') msg.id = value;
          else if (field === 'event') msg.event = value;
          else if (field === 'data') {
            msg.data = value;
            hasData = true;
          }
        }
        if (hasData) messages.push(msg);
        if (opts.stopAfter !== undefined && messages.length >= opts.stopAfter) {
          ac.abort();
          return { status: res.status, contentType, messages, ended: false };
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

interface EventJson {
  seq: number;
  type: string;
  createdAt: string;
}

const parsed = (m: SseMessage): EventJson => JSON.parse(m.data) as EventJson;

describe('jobs: events over SSE, limits, quotas, filters (real API and worker processes)', () => {
  let p: Platform;

  const newTenant = async (body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> => {
    const r = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: `T ${Math.random()}`, ...body },
    });
    expect(r.status).toBe(201);
    return { id: r.body.tenant.id, key: r.body.apiKey.key };
  };
  const createNoop = async (
    key: string,
    options: Record<string, unknown> = {},
    extra: Record<string, unknown> = {},
  ) => {
    const r = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'noop', options, ...extra },
    });
    expect(r.status).toBe(202);
    return r.body as { id: string; status: string; queue: string };
  };
  const getJob = async (key: string, id: string) =>
    (await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key })).body;
  const untilStatus = (key: string, id: string, status: string) =>
    waitFor(
      `job ${id} to be ${status}`,
      async () => {
        const j = await getJob(key, id);
        return j.status === status ? j : undefined;
      },
      90_000,
    );

  beforeAll(async () => {
    // Four jobs at once per worker, so only the concurrency limits can keep a tenant's jobs apart.
    p = await startPlatform({ WORKER_CONCURRENCY: '4' });
  });
  afterAll(async () => {
    await p?.stop();
  });

  describe('GET /v1/jobs/:id/events as Server-Sent Events', () => {
    it('streams every event in order, with id = seq and event = type, and ends at succeeded', async () => {
      const t = await newTenant();
      const job = await createNoop(t.key, { durationMs: 1_500 });
      const read = await readSse(`${p.apiUrl}/v1/jobs/${job.id}/events`, t.key);
      expect(read.status).toBe(200);
      expect(read.contentType).toContain('text/event-stream');
      expect(read.ended).toBe(true);
      const events = read.messages.map(parsed);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(read.messages.map((m) => m.id)).toEqual(events.map((e) => String(e.seq)));
      expect(read.messages.map((m) => m.event)).toEqual(events.map((e) => e.type));
      expect(events[0].type).toBe('queued');
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['started', 'progress']));
      expect(events[events.length - 1].type).toBe('succeeded');
      // The stream carries exactly what polling returns.
      const polled = await call(p.apiUrl, 'GET', `/v1/jobs/${job.id}/events`, { token: t.key });
      expect(polled.headers.get('content-type')).toContain('application/json');
      expect(polled.body.map((e: EventJson) => e.seq)).toEqual(events.map((e) => e.seq));
    });

    it('resumes after Last-Event-ID (or ?after=) without duplicates or gaps', async () => {
      const t = await newTenant();
      const job = await createNoop(t.key, { durationMs: 2_000 });
      const first = await readSse(`${p.apiUrl}/v1/jobs/${job.id}/events`, t.key, { stopAfter: 2 });
      expect(first.messages).toHaveLength(2);
      const lastId = first.messages[1].id!;
      const rest = await readSse(`${p.apiUrl}/v1/jobs/${job.id}/events`, t.key, {
        headers: { 'last-event-id': lastId },
      });
      expect(rest.ended).toBe(true);
      const seqs = [...first.messages, ...rest.messages].map((m) => parsed(m).seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(parsed(rest.messages[rest.messages.length - 1]).type).toBe('succeeded');

      const tail = await readSse(`${p.apiUrl}/v1/jobs/${job.id}/events?after=${seqs.length - 1}`, t.key);
      expect(tail.messages.map((m) => m.event)).toEqual(['succeeded']);
      // A client that has seen the terminal event gets an empty stream that ends at once.
      const none = await readSse(`${p.apiUrl}/v1/jobs/${job.id}/events`, t.key, {
        headers: { 'last-event-id': String(seqs.length) },
      });
      expect(none).toMatchObject({ status: 200, ended: true, messages: [] });
    });

    it("answers 404 for another tenant's job and 401 without a key, as problem+json", async () => {
      const a = await newTenant();
      const b = await newTenant();
      const job = await createNoop(a.key);
      const asB = await readSse(`${p.apiUrl}/v1/jobs/${job.id}/events`, b.key);
      expect(asB.status).toBe(404);
      expect(asB.contentType).toContain('application/problem+json');
      expect(JSON.parse(asB.body!)).toMatchObject({ code: 'NOT_FOUND' });
      const anon = await fetch(`${p.apiUrl}/v1/jobs/${job.id}/events`, {
        headers: { accept: 'text/event-stream' },
      });
      expect(anon.status).toBe(401);
    });
  });

  describe('concurrency limits and cancellation', () => {
    const runningWindows = async (key: string, ids: string[]) =>
      Promise.all(
        ids.map(async (id) => {
          const events = (await call(p.apiUrl, 'GET', `/v1/jobs/${id}/events`, { token: key }))
            .body as EventJson[];
          const started = events.filter((e) => e.type === 'started');
          const end = events.find((e) => e.type === 'succeeded');
          return {
            start: Date.parse(started[started.length - 1].createdAt),
            end: Date.parse(end!.createdAt),
          };
        }),
      );
    const overlaps = (w: Array<{ start: number; end: number }>) =>
      w.some((a, i) => w.some((b, j) => i !== j && a.start < b.end && b.start < a.end));

    it('never runs two jobs of a tenant with maxConcurrentJobs=1 at once; the waiting ones start as slots free', async () => {
      const t = await newTenant({ maxConcurrentJobs: 1 });
      const jobs = [];
      for (let i = 0; i < 3; i++) jobs.push(await createNoop(t.key, { durationMs: 1_200 }));
      const seenRunning = new Set<number>();
      await waitFor(
        'all three jobs to succeed',
        async () => {
          const list = await call(p.apiUrl, 'GET', '/v1/jobs?limit=10', { token: t.key });
          const statuses = list.body.items.map((j: { status: string }) => j.status) as string[];
          seenRunning.add(statuses.filter((s) => s === 'RUNNING').length);
          return statuses.every((s) => s === 'SUCCEEDED');
        },
        90_000,
        100,
      );
      expect(Math.max(...seenRunning)).toBe(1);
      expect(
        overlaps(
          await runningWindows(
            t.key,
            jobs.map((j) => j.id),
          ),
        ),
      ).toBe(false);
      // At least one job had to wait, and said so in its events.
      const waits = await Promise.all(
        jobs.map(async (j) =>
          (
            (await call(p.apiUrl, 'GET', `/v1/jobs/${j.id}/events`, { token: t.key })).body as Array<{
              type: string;
              message: string;
            }>
          ).filter((e) => e.type === 'log' && /waiting for a free slot/.test(e.message)),
        ),
      );
      expect(waits.flat().length).toBeGreaterThanOrEqual(1);
    });

    it('runs jobs side by side when the tenant has the slots (the check above can see overlap)', async () => {
      const t = await newTenant({ maxConcurrentJobs: 3 });
      const jobs = [];
      for (let i = 0; i < 3; i++) jobs.push(await createNoop(t.key, { durationMs: 3_000 }));
      await Promise.all(jobs.map((j) => untilStatus(t.key, j.id, 'SUCCEEDED')));
      expect(
        overlaps(
          await runningWindows(
            t.key,
            jobs.map((j) => j.id),
          ),
        ),
      ).toBe(true);
    });

    it('cancels a queued job at once and a running one at its next step; a finished job cannot be cancelled', async () => {
      const t = await newTenant({ maxConcurrentJobs: 1 });
      const running = await createNoop(t.key, { durationMs: 60_000 });
      await untilStatus(t.key, running.id, 'RUNNING');
      const waiting = await createNoop(t.key, { durationMs: 1_000 });
      expect((await getJob(t.key, waiting.id)).status).toBe('QUEUED');

      // Cancelling needs the scope that starts the job (TRAIN here): a PREDICT-only key may not.
      const predictOnly = await call(p.apiUrl, 'POST', '/v1/api-keys', {
        token: t.key,
        body: { name: 'p', scopes: ['PREDICT'] },
      });
      const refused = await call(p.apiUrl, 'POST', `/v1/jobs/${waiting.id}/cancel`, {
        token: predictOnly.body.key,
      });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('INSUFFICIENT_SCOPE');

      const stream = readSse(`${p.apiUrl}/v1/jobs/${waiting.id}/events`, t.key);
      const cancelled = await call(p.apiUrl, 'POST', `/v1/jobs/${waiting.id}/cancel`, { token: t.key });
      expect(cancelled.status).toBe(202);
      expect(cancelled.body.status).toBe('CANCELLED');
      const read = await stream;
      expect(read.ended).toBe(true);
      expect(read.messages[read.messages.length - 1].event).toBe('cancelled');
      expect(read.messages.map((m) => m.event)).not.toContain('started');

      const flagged = await call(p.apiUrl, 'POST', `/v1/jobs/${running.id}/cancel`, { token: t.key });
      expect(flagged.status).toBe(202);
      const done = await untilStatus(t.key, running.id, 'CANCELLED');
      expect(Date.parse(done.finishedAt) - Date.parse(done.startedAt)).toBeLessThan(60_000);
      expect(done.computeSeconds).toBeGreaterThan(0);
      const again = await call(p.apiUrl, 'POST', `/v1/jobs/${running.id}/cancel`, { token: t.key });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('CONFLICT');
    });
  });

  describe('quotas', () => {
    it('refuses a job with 403 QUOTA_EXCEEDED when the monthly compute minutes are used up', async () => {
      const t = await newTenant({ computeMinutesPerMonth: 0 });
      const r = await call(p.apiUrl, 'POST', '/v1/jobs', { token: t.key, body: { task: 'noop' } });
      expect(r.status).toBe(403);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body).toMatchObject({ status: 403, code: 'QUOTA_EXCEEDED', usedMinutes: 0, limitMinutes: 0 });
      expect(r.body.detail).toMatch(/used 0\.0 of its 0 compute minutes/);
      expect((await call(p.apiUrl, 'GET', '/v1/jobs', { token: t.key })).body.items).toEqual([]);
    });

    it('refuses with 429 RATE_LIMITED and Retry-After once ten jobs per slot are waiting', async () => {
      const t = await newTenant({ maxConcurrentJobs: 0 });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await createNoop(t.key)).id);
      const r = await call(p.apiUrl, 'POST', '/v1/jobs', { token: t.key, body: { task: 'noop' } });
      expect(r.status).toBe(429);
      expect(r.body).toMatchObject({ code: 'RATE_LIMITED', activeJobs: 10, limit: 10 });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      // With no slot at all, nothing ever starts.
      expect((await getJob(t.key, ids[0])).status).toBe('QUEUED');
      for (const id of ids)
        expect((await call(p.apiUrl, 'POST', `/v1/jobs/${id}/cancel`, { token: t.key })).status).toBe(202);
      expect(
        (await call(p.apiUrl, 'POST', '/v1/jobs', { token: t.key, body: { task: 'noop' } })).status,
      ).toBe(202);
    });
  });

  describe('listing and routing', () => {
    it('filters by status, kind, dataset version and creation time, with cursor pages', async () => {
      const t = await newTenant();
      const before = new Date(Date.now() - 1_000).toISOString();
      const a = await createNoop(t.key);
      const b = await createNoop(t.key);
      await untilStatus(t.key, a.id, 'SUCCEEDED');
      await untilStatus(t.key, b.id, 'SUCCEEDED');
      const mid = new Date().toISOString();
      const c = await createNoop(t.key, { durationMs: 60_000 });
      await call(p.apiUrl, 'POST', `/v1/jobs/${c.id}/cancel`, { token: t.key });
      await untilStatus(t.key, c.id, 'CANCELLED');

      const list = async (q: string) =>
        (
          (await call(p.apiUrl, 'GET', `/v1/jobs?${q}`, { token: t.key })).body.items as Array<{ id: string }>
        ).map((j) => j.id);
      expect(await list('status=SUCCEEDED')).toEqual([b.id, a.id]);
      expect(await list('status=CANCELLED')).toEqual([c.id]);
      expect(await list('kind=NOOP')).toEqual([c.id, b.id, a.id]);
      expect(await list('kind=TRAIN')).toEqual([]);
      expect(await list('datasetVersionId=nope')).toEqual([]);
      expect(await list(`createdAfter=${encodeURIComponent(mid)}`)).toEqual([c.id]);
      expect(
        await list(`createdAfter=${encodeURIComponent(before)}&createdBefore=${encodeURIComponent(mid)}`),
      ).toEqual([b.id, a.id]);

      const page1 = await call(p.apiUrl, 'GET', '/v1/jobs?status=SUCCEEDED&limit=1', { token: t.key });
      expect(page1.body.items.map((j: { id: string }) => j.id)).toEqual([b.id]);
      const page2 = await call(
        p.apiUrl,
        'GET',
        `/v1/jobs?status=SUCCEEDED&limit=1&cursor=${page1.body.nextCursor}`,
        { token: t.key },
      );
      expect(page2.body).toMatchObject({ items: [{ id: a.id }], nextCursor: null });

      const bad = await call(p.apiUrl, 'GET', '/v1/jobs?status=DONE&createdAfter=yesterday', {
        token: t.key,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'createdAfter',
        'status',
      ]);
    });

    it('routes auto to the CPU queue without a GPU worker, and to the GPU queue once one is connected', async () => {
      const t = await newTenant();
      const auto = await createNoop(t.key, { accelerator: 'auto' });
      expect(auto.queue).toBe('cpu');
      const gpu = await createNoop(t.key, { accelerator: 'gpu' });
      expect(gpu.queue).toBe('gpu');
      expect((await getJob(t.key, gpu.id)).status).toBe('QUEUED');

      // A CPU stand-in for a GPU worker (this machine has no GPU backend).
      await p.startWorker({ WORKER_QUEUES: 'gpu', WORKER_GPU_CHECK: 'off' });
      await untilStatus(t.key, gpu.id, 'SUCCEEDED');
      // The API caches the GPU-worker probe for a few seconds.
      const routed = await waitFor(
        'auto jobs to route to the gpu queue',
        async () => {
          const j = await createNoop(t.key, { accelerator: 'auto' });
          return j.queue === 'gpu' ? j : undefined;
        },
        30_000,
        2_000,
      );
      await untilStatus(t.key, routed.id, 'SUCCEEDED');
      expect((await createNoop(t.key, { accelerator: 'cpu' })).queue).toBe('cpu');
      const bad = await call(p.apiUrl, 'POST', '/v1/jobs', {
        token: t.key,
        body: { task: 'noop', options: { accelerator: 'tpu' } },
      });
      expect(bad.status).toBe(400);
    });
  });
});
