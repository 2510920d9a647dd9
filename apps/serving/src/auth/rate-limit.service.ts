import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '@modelsmith/config';
import { ProblemError, type TenantPrincipal } from '@modelsmith/http';
import { REDIS } from '../redis.provider';

export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/**
 * Per-key request rate for predictions, shared by every serving process through Redis (a fixed
 * one-minute window per key). A key's own `rateLimitPerMinute` wins over
 * PREDICT_DEFAULT_RATE_LIMIT_PER_MINUTE. While Redis is unreachable each process falls back to an
 * in-memory limiter with the same limit, so predictions go on.
 */
@Injectable()
export class RateLimitService {
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Counts one request of the key; throws a 429 problem with Retry-After once the key is over its limit. */
  async consume(principal: TenantPrincipal): Promise<RateLimitState | null> {
    const limit = principal.rateLimitPerMinute ?? this.config.PREDICT_DEFAULT_RATE_LIMIT_PER_MINUTE;
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
        headers: { 'Retry-After': String(retryAfter), 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': '0' },
      });
    }
  }

  private limiter(points: number): RateLimiterRedis {
    let limiter = this.limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        useRedisPackage: false,
        keyPrefix: `${this.config.QUEUE_PREFIX}:ratelimit:predict:${points}`,
        points,
        duration: 60,
        insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }),
      });
      this.limiters.set(points, limiter);
    }
    return limiter;
  }
}
