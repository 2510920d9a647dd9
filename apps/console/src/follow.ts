import { useEffect, useState } from 'preact/hooks';
import {
  streamJobEvents,
  TERMINAL_JOB_STATUSES,
  watchJob,
  type ModelsmithClient,
} from '@modelsmith/sdk/browser';
import type { Job, JobEvent } from './types';

export const isTerminal = (j: Pick<Job, 'status'> | undefined): boolean =>
  j !== undefined && TERMINAL_JOB_STATUSES.includes(j.status);

/**
 * Follows a job live: its events over SSE (each one also refreshes the job row, at most twice a second),
 * falling back to polling when the stream cannot be opened or breaks. Stops when the job ends or the
 * signal aborts.
 */
export async function followJob(
  c: ModelsmithClient,
  id: string,
  on: { job: (j: Job) => void; event: (e: JobEvent) => void },
  signal: AbortSignal,
): Promise<Job> {
  let last = 0;
  let refreshing: Promise<void> | undefined;
  let again = false;
  const refresh = (): void => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = (async () => {
      do {
        again = false;
        on.job(await c.ok(c.api.GET('/v1/jobs/{id}', { params: { path: { id } } })));
        await new Promise((r) => setTimeout(r, 500));
      } while (again && !signal.aborted);
    })()
      .catch(() => undefined)
      .finally(() => (refreshing = undefined));
  };
  const onEvent = (e: JobEvent): void => {
    if (e.seq <= last) return;
    last = e.seq;
    on.event(e);
    refresh();
  };
  const first = await c.ok(c.api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
  on.job(first);
  try {
    for (let attempt = 0; attempt < 3 && !signal.aborted; attempt++) {
      await streamJobEvents(c, id, { after: last, onEvent, signal });
      const now = await c.ok(c.api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
      on.job(now);
      if (isTerminal(now)) return now;
    }
  } catch (e) {
    if (signal.aborted) throw e;
  }
  // No stream (a proxy that buffers, a broken connection): poll instead.
  return watchJob(c, id, { onEvent, onJob: on.job, intervalMs: 1000, signal });
}

/** The job row and its events, live, for a component. */
export function useJob(
  c: ModelsmithClient,
  id: string | undefined,
): { job?: Job; events: JobEvent[]; error?: unknown } {
  const [job, setJob] = useState<Job>();
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setJob(undefined);
    setEvents([]);
    setError(undefined);
    if (!id) return;
    const ac = new AbortController();
    followJob(c, id, { job: setJob, event: (e) => setEvents((es) => [...es, e]) }, ac.signal).catch(
      (e: unknown) => !ac.signal.aborted && setError(e),
    );
    return () => ac.abort();
  }, [c, id]);
  return { job, events, error };
}
