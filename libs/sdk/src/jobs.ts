import type { ModelsmithClient, Schemas } from './client';

export type Job = Schemas['JobDto'];
export type JobEvent = Schemas['JobEventDto'];

export const TERMINAL_JOB_STATUSES: readonly Job['status'][] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export interface WatchOptions {
  /** Each new event, in order. */
  onEvent?: (e: JobEvent) => void;
  /** The job row after every poll (status, percent, ETA, best metric). */
  onJob?: (j: Job) => void;
  /** Poll interval; default 1 s. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Follows a job until it ends: polls its row and its events after the last sequence number seen (so no
 * event is shown twice or skipped, whatever the interval), and resolves with the final row. Transient
 * answers (503 with Retry-After, network errors) are waited out.
 */
export async function watchJob(client: ModelsmithClient, jobId: string, o: WatchOptions = {}): Promise<Job> {
  let after = 0;
  const interval = o.intervalMs ?? 1_000;
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const events = await client.ok(
        client.api.GET('/v1/jobs/{id}/events', { params: { path: { id: jobId }, query: { after } } }),
      );
      for (const e of events) {
        after = Math.max(after, e.seq);
        o.onEvent?.(e);
      }
      const job = await client.ok(client.api.GET('/v1/jobs/{id}', { params: { path: { id: jobId } } }));
      o.onJob?.(job);
      if (TERMINAL_JOB_STATUSES.includes(job.status)) {
        // Events recorded with the final state: show them before returning.
        const last = await client.ok(
          client.api.GET('/v1/jobs/{id}/events', { params: { path: { id: jobId }, query: { after } } }),
        );
        for (const e of last) o.onEvent?.(e);
        return job;
      }
    } catch (e) {
      if (!isTransient(e)) throw e;
    }
    await sleep(interval, o.signal);
  }
}

function isTransient(e: unknown): boolean {
  const status = (e as { status?: unknown }).status;
  if (status === 503 || status === 429) return true;
  // fetch's network failures (connection refused/reset while the API restarts)
  return e instanceof TypeError && /fetch failed/i.test(e.message);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

export interface StreamOptions {
  /** Only events after this sequence number (default 0: all). */
  after?: number;
  onEvent: (e: JobEvent) => void;
  signal?: AbortSignal;
}

/**
 * Follows a job's events over Server-Sent Events (`Accept: text/event-stream`), read with fetch so the
 * API key travels in the Authorization header (a browser's EventSource cannot send one). Resolves with
 * the last sequence number seen once the server ends the stream (after the job's terminal event);
 * rejects when the connection fails, so the caller can resume with `after` or fall back to polling.
 */
export async function streamJobEvents(
  client: ModelsmithClient,
  jobId: string,
  o: StreamOptions,
): Promise<number> {
  let last = o.after ?? 0;
  const url = `${client.baseUrl}/v1/jobs/${encodeURIComponent(jobId)}/events?after=${last}`;
  const res = await client.raw(url, {
    headers: { accept: 'text/event-stream' },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (!res.body) throw new Error('the event stream had no body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buffer += value;
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = message
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (!data) continue; // a comment (keep-alive) or a message without data
      const event = JSON.parse(data) as JobEvent;
      if (event.seq <= last) continue;
      last = event.seq;
      o.onEvent(event);
    }
  }
}
