import { Inject, Injectable, Logger, OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';

/** Commands (rate limits). Fails fast instead of queueing while Redis is away. */
export const REDIS = Symbol('REDIS');
/** A second connection in subscriber mode (change notices from the API: deployments, API keys). */
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');

export const redisProviders: Provider[] = [
  {
    provide: REDIS,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) =>
      new Redis(config.REDIS_URL, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
      }),
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
    for (const [name, client] of [
      ['commands', redis],
      ['subscriber', subscriber],
    ] as const) {
      client.on('error', (e: Error) => this.logger.warn(`redis ${name} connection: ${e.message}`));
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}

/**
 * Subscribes to one of the API's notice channels and hands each message, parsed as a JSON object, to
 * `handle` (malformed ones are logged and dropped). Waits at most 2 s for the subscription: without
 * Redis, serving still works and its caches expire on their own.
 */
export async function onNotices(
  subscriber: Redis,
  channel: string,
  logger: { warn(message: string): void },
  handle: (notice: Record<string, unknown>) => void,
): Promise<void> {
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    let notice: unknown;
    try {
      notice = JSON.parse(message);
    } catch {
      notice = undefined;
    }
    if (notice && typeof notice === 'object') handle(notice as Record<string, unknown>);
    else logger.warn(`ignoring a malformed notice on ${channel}: ${message.slice(0, 200)}`);
  });
  await Promise.race([
    subscriber
      .subscribe(channel)
      .catch((e: unknown) => logger.warn(`cannot subscribe to ${channel}: ${String(e)}`)),
    new Promise((done) => setTimeout(done, 2_000).unref()),
  ]);
}
