import type { RedisOptions } from 'bullmq';

/**
 * ioredis options from a redis:// or rediss:// URL. `maxRetriesPerRequest: null` is what BullMQ workers
 * need to keep blocking commands alive across reconnects; the retry strategy reconnects forever with
 * a capped back-off, so a restarted Redis is picked up again without restarting the process.
 */
export function redisOptionsFromUrl(url: string, opts: { failFast?: boolean } = {}): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isFinite(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // Producers (the API) fail fast while Redis is away, so a request never hangs: the job row is
    // already written and the reconciler enqueues it later. Workers queue commands and wait.
    maxRetriesPerRequest: opts.failFast ? 1 : null,
    enableOfflineQueue: !opts.failFast,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
  };
}
