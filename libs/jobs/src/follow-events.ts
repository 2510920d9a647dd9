import { setTimeout as sleep } from 'node:timers/promises';
import type { JobEvent } from '@modelsmith/db';
import type { JobStore } from './job-store';
import { isTerminal } from './job-events';

/** Event types after which a job emits nothing more. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export interface FollowOptions {
  /** Stops following (without error) when aborted, e.g. when the client disconnects. */
  signal: AbortSignal;
  /** Pause between polls when nothing new arrived. */
  pollMs?: number;
  batch?: number;
}

/**
 * Yields a job's persisted events with seq > `afterSeq`, in order, polling Postgres (the source of
 * truth) for new ones, and returns after the terminal event. If the job is already finished and the
 * caller has seen everything, it returns at once. Transient database errors are retried on the next poll.
 */
export async function* followJobEvents(
  store: Pick<JobStore, 'events' | 'get'>,
  tenantId: string,
  jobId: string,
  afterSeq: number,
  opts: FollowOptions,
): AsyncGenerator<JobEvent, void, undefined> {
  let last = afterSeq;
  const pollMs = opts.pollMs ?? 400;
  const job = await store.get(tenantId, jobId);
  if (!job) return;
  let finishedAtConnect = isTerminal(job.status);
  while (!opts.signal.aborted) {
    let batch: JobEvent[] = [];
    try {
      batch = await store.events(tenantId, jobId, last, opts.batch ?? 200);
    } catch {
      batch = [];
    }
    for (const event of batch) {
      last = event.seq;
      yield event;
      if (TERMINAL_EVENT_TYPES.has(event.type)) return;
    }
    if (batch.length === 0) {
      // Finished before we connected and nothing left after `afterSeq`: the client saw the end already.
      if (finishedAtConnect) return;
      await sleep(pollMs, undefined, { signal: opts.signal }).catch(() => undefined);
    }
    finishedAtConnect = false;
  }
}
