import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import {
  apiKeyEventsChannel,
  deploymentEventsChannel,
  type ApiKeyEvent,
  type DeploymentEvent,
} from '@modelsmith/contracts';

/**
 * Tells serving processes what changed (Redis pub/sub), so they drop cached lookups at once: a
 * deployment (created, swapped, undeployed, activated, deleted) or a revoked API key. Best effort: a
 * failed notice is logged and serving re-reads within seconds anyway (deployments 2 s, keys 10 s).
 */
@Injectable()
export class ServingNotices implements OnApplicationShutdown {
  private readonly logger = new Logger('ServingNotices');
  private readonly redis: Redis;
  private readonly deploymentsChannel: string;
  private readonly apiKeysChannel: string;
  /** The one connect attempt in flight, shared by concurrent notices (the offline queue is off). */
  private connecting?: Promise<void>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
    });
    this.redis.on('error', (e: Error) => this.logger.warn(`redis: ${e.message}`));
    this.deploymentsChannel = deploymentEventsChannel(config.QUEUE_PREFIX);
    this.apiKeysChannel = apiKeyEventsChannel(config.QUEUE_PREFIX);
  }

  deploymentChanged(event: DeploymentEvent): Promise<void> {
    return this.publish(this.deploymentsChannel, event, `the change of deployment ${event.deploymentId}`);
  }

  apiKeyRevoked(event: ApiKeyEvent): Promise<void> {
    return this.publish(this.apiKeysChannel, event, `the revocation of API key ${event.keyId}`);
  }

  private async publish(channel: string, event: object, what: string): Promise<void> {
    try {
      if (this.redis.status === 'wait' || this.redis.status === 'end') {
        this.connecting ??= this.redis.connect().finally(() => (this.connecting = undefined));
      }
      if (this.connecting) await this.connecting;
      await this.redis.publish(channel, JSON.stringify(event));
    } catch (e) {
      this.logger.warn(`could not announce ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** One publisher (one Redis connection) for the whole API. */
@Global()
@Module({ providers: [ServingNotices], exports: [ServingNotices] })
export class ServingNoticesModule {}
