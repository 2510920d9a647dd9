import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { KeyRateLimiter } from '@modelsmith/http';
import { PredictRateLimitGuard } from './predict-rate-limit.guard';

const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/** Closes the limiter's Redis connection with the app. */
@Injectable()
class RateLimitRedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_REDIS) private readonly redis: Redis) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/**
 * The API's side of the per-key prediction rate (batch predictions): its own Redis connection, which
 * fails fast instead of queueing while Redis is away (the limiter then counts in memory).
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const redis = new Redis(config.REDIS_URL, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 2_000,
        });
        const logger = new Logger('RateLimit');
        redis.on('error', (e: Error) => logger.warn(`redis: ${e.message}`));
        return redis;
      },
    },
    RateLimitRedisLifecycle,
    {
      provide: KeyRateLimiter,
      inject: [RATE_LIMIT_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: AppConfig) =>
        new KeyRateLimiter(redis, {
          prefix: config.QUEUE_PREFIX,
          defaultLimitPerMinute: config.PREDICT_DEFAULT_RATE_LIMIT_PER_MINUTE,
        }),
    },
    PredictRateLimitGuard,
  ],
  exports: [KeyRateLimiter, PredictRateLimitGuard],
})
export class PredictRateLimitModule {}
