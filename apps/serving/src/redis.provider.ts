import { Inject, Injectable, Logger, OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@modelsmith/config';

/** Commands (rate limits). Fails fast instead of queueing while Redis is away. */
export const REDIS = Symbol('REDIS');
/** A second connection in subscriber mode (deployment change notices). */
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');

export const redisProviders: Provider[] = [
  {
    provide: REDIS,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 }),
  },
  {
    provide: REDIS_SUBSCRIBER,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }),
  },
];

@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {
    for (const [name, client] of [['commands', redis], ['subscriber', subscriber]] as const) {
      client.on('error', (e: Error) => this.logger.warn(`redis ${name} connection: ${e.message}`));
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}
