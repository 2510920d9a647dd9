import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ProblemError } from './problem';
import type { TenantPrincipal } from './principal';

export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export interface KeyRateLimiterOptions {
  /** Namespaces the counters in Redis (the installation's QUEUE_PREFIX). */
  prefix: string;
  /** Requests per minute of a key that sets no `rateLimitPerMinute` of its own (0: unlimited). */
  defaultLimitPerMinute: number;
}

/**
 * A key's prediction rate, shared by every process that counts it through Redis (a fixed one-minute
 * window per key): online predictions on the serving app and batch predictions on the API draw on the
 * same budget. A key's own `rateLimitPerMinute` wins over the default. While Redis is unreachable each
 * process falls back to an in-memory limiter with the same limit, so predictions go on.
 */
export class KeyRateLimiter {
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly redis: Redis,
    private readonly options: KeyRateLimiterOptions,
  ) {}

  /** Counts one request of the key; throws a 429 problem with Retry-After once the key is over its limit. */
  async consume(principal: TenantPrincipal): Promise<RateLimitState | null> {
    const limit = principal.rateLimitPerMinute ?? this.options.defaultLimitPerMinute;
    if (limit <= 0) return null;
    try {
      const res = await this.limiter(limit).consume(principal.keyId);
      return { limit, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const retryAfter = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw new ProblemError({
        status: 429,
        code: 'RATE_LIMITED',
        title: 'Rate limit exceeded',
        detail: `this API key may make ${limit} prediction requests per minute; retry in ${retryAfter} s`,
        extensions: { limit, retryAfterSeconds: retryAfter },
        headers: {
          'Retry-After': String(retryAfter),
          'X-RateLimit-Limit': String(limit),
          'X-RateLimit-Remaining': '0',
        },
      });
    }
  }

  private limiter(points: number): RateLimiterRedis {
    let limiter = this.limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        useRedisPackage: false,
        keyPrefix: `${this.options.prefix}:ratelimit:predict:${points}`,
        points,
        duration: 60,
        insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }),
      });
      this.limiters.set(points, limiter);
    }
    return limiter;
  }
}

/** The X-RateLimit-* headers of an allowed request. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return { 'X-RateLimit-Limit': String(state.limit), 'X-RateLimit-Remaining': String(state.remaining) };
}
