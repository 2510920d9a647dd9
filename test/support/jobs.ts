/**
 * Waiting for jobs and their trials over the API (GET /v1/jobs/:id, GET /v1/jobs/:id/trials), for the
 * end-to-end specs: one copy of the polling loops instead of one per spec.
 */
import { call, waitFor, type Platform } from './platform';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- job bodies are asserted field by field in tests
type Body = any;

export interface PollOptions {
  /** What is awaited, for the timeout's message. */
  what?: string;
  timeoutMs?: number;
  everyMs?: number;
}

const ENDED = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

async function getJob(p: Pick<Platform, 'apiUrl'>, token: string, id: string): Promise<Body> {
  const r = await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token });
  if (r.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${r.status}`);
  return r.body;
}

/** Polls the job until it ended (SUCCEEDED, FAILED or CANCELLED) and returns its body. */
export function jobEnded(
  p: Pick<Platform, 'apiUrl'>,
  token: string,
  id: string,
  { what = `job ${id} to end`, timeoutMs = 600_000, everyMs = 250 }: PollOptions = {},
): Promise<Body> {
  return waitFor(
    what,
    async () => {
      const job = await getJob(p, token, id);
      return ENDED.includes(job.status as string) ? job : undefined;
    },
    timeoutMs,
    everyMs,
  );
}

/**
 * Polls the job until it SUCCEEDED and returns its body; a job that ends otherwise stops the wait at
 * once with its status, failure code and reason.
 */
export async function jobSucceeded(
  p: Pick<Platform, 'apiUrl'>,
  token: string,
  id: string,
  { what = `job ${id} to succeed`, ...o }: PollOptions = {},
): Promise<Body> {
  const job = await jobEnded(p, token, id, { what, ...o });
  if (job.status !== 'SUCCEEDED')
    throw new Error(`${what}: the job ended ${job.status}: ${job.failureCode} ${job.failureReason}`);
  return job;
}

/** Every trial of the job, following the list's pages (`pageSize` per page), each page answered 200. */
export async function jobTrials<T = Body>(
  p: Pick<Platform, 'apiUrl'>,
  token: string,
  id: string,
  pageSize = 100,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const r = await call(
      p.apiUrl,
      'GET',
      `/v1/jobs/${id}/trials?limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`,
      {
        token,
      },
    );
    expect(r.status).toBe(200);
    out.push(...(r.body.items as T[]));
    cursor = r.body.nextCursor as string | null;
  } while (cursor);
  return out;
}

/** Polls the job's trials (as `jobTrials` lists them) until `ready` holds for them; returns them. */
export function trialsWhen<T = Body>(
  p: Pick<Platform, 'apiUrl'>,
  token: string,
  id: string,
  ready: (trials: T[]) => boolean,
  {
    what = `trials of job ${id}`,
    timeoutMs = 300_000,
    everyMs = 100,
    pageSize = 100,
  }: PollOptions & {
    pageSize?: number;
  } = {},
): Promise<T[]> {
  return waitFor(
    what,
    async () => {
      const trials = await jobTrials<T>(p, token, id, pageSize);
      return ready(trials) ? trials : undefined;
    },
    timeoutMs,
    everyMs,
  );
}
