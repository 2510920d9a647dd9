import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@modelsmith/config';
import { deploymentEventsChannel, type DeploymentEvent } from '@modelsmith/contracts';

/**
 * Tells serving processes that a deployment changed (Redis pub/sub), so they drop their cached
 * lookup at once. Best effort: a failed notice is logged and serving re-reads within seconds anyway.
 */
@Injectable()
export class DeploymentEvents implements OnApplicationShutdown {
  private readonly logger = new Logger('DeploymentEvents');
  private readonly redis: Redis;
  private readonly channel: string;
  /** The one connect attempt in flight, shared by concurrent notices (the offline queue is off). */
  private connecting?: Promise<void>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    this.redis.on('error', (e: Error) => this.logger.warn(`redis: ${e.message}`));
    this.channel = deploymentEventsChannel(config.QUEUE_PREFIX);
  }

  async changed(event: DeploymentEvent): Promise<void> {
    try {
      if (this.redis.status === 'wait' || this.redis.status === 'end') {
        this.connecting ??= this.redis.connect().finally(() => (this.connecting = undefined));
      }
      if (this.connecting) await this.connecting;
      await this.redis.publish(this.channel, JSON.stringify(event));
    } catch (e) {
      this.logger.warn(`could not announce the change of deployment ${event.deploymentId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
