import type { Job } from '@modelsmith/db';

/** Admission limits checked when a worker is about to start a job. */
export interface ConcurrencyLimits {
  /** Most jobs RUNNING at once across all tenants; 0 means no global limit. */
  globalMaxRunning: number;
  /** A RUNNING job whose heartbeat is older than this holds no slot: its worker is presumed dead. */
  heartbeatStaleMs: number;
}

export const DEFAULT_LIMITS: ConcurrencyLimits = { globalMaxRunning: 0, heartbeatStaleMs: 90_000 };

/** How long a throttled delivery waits before it tries again (plus jitter, so waiting jobs spread out). */
export const THROTTLE_RETRY_MS = 1_500;

/** The runner refreshes a running job's heartbeat at most this often (it polls for cancellation every second). */
export const HEARTBEAT_EVERY_MS = 5_000;

/** Heartbeat interval for a staleness window: at most a quarter of it, so a live job never looks stale. */
export function heartbeatEveryMs(limits: Pick<ConcurrencyLimits, 'heartbeatStaleMs'>): number {
  return Math.min(HEARTBEAT_EVERY_MS, Math.floor(limits.heartbeatStaleMs / 4));
}

export type StartResult =
  /** The job is RUNNING on this worker now. */
  | { outcome: 'started'; job: Job }
  /** The job is already terminal (a duplicate delivery): skip it. */
  | { outcome: 'finished' }
  /** A concurrency limit is full; the job stays QUEUED and must be offered again later. */
  | { outcome: 'throttled'; scope: 'tenant' | 'global'; running: number; limit: number };

/** Stage shown on a QUEUED job that waits for a concurrency slot. */
export const WAITING_STAGE = 'waiting-for-slot';
