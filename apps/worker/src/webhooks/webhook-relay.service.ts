import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { WebhookRelay } from '@modelsmith/jobs';

/** How often the relay looks for deliveries the queue lost. */
const RECOVERY_INTERVAL_MS = 60_000;

/**
 * Moves webhook deliveries written in Postgres (the outbox) to the webhook queue every
 * WEBHOOK_RELAY_INTERVAL_MS, and re-enqueues deliveries the queue lost (see WebhookRelay.recoverLost).
 */
@Injectable()
export class WebhookRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookRelay');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastRecovery = 0;

  constructor(
    @Inject(WebhookRelay) private readonly relay: WebhookRelay,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.config.WEBHOOK_RELAY_INTERVAL_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      // Drain a backlog in passes of 100 before waiting again.
      while (!this.stopped && (await this.relay.relay()) === 100);
      if (this.stopped || Date.now() - this.lastRecovery < RECOVERY_INTERVAL_MS) return;
      this.lastRecovery = Date.now();
      const requeued = await this.relay.recoverLost();
      if (requeued > 0) this.logger.warn(`re-enqueued ${requeued} webhook deliveries the queue had lost`);
    } catch (e) {
      this.logger.warn(`relaying webhook deliveries failed (retried): ${(e as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
