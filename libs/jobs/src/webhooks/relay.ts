import type { Queue } from 'bullmq';
import type { PrismaClient } from '@modelsmith/db';
import { WEBHOOK_DELIVERY_JOB, type WebhookDeliveryPayload } from '@modelsmith/contracts';

export interface RelayOptions {
  maxAttempts: number;
  backoffMs: number;
  /** Most deliveries moved per pass. */
  batch?: number;
  /**
   * How long a queued delivery may go unchecked before {@link WebhookRelay.recoverLost} looks for its
   * queue job again (default 5 minutes).
   */
  recheckAfterMs?: number;
}

/** Default of {@link RelayOptions.recheckAfterMs}. */
export const WEBHOOK_RECHECK_AFTER_MS = 5 * 60_000;

/**
 * Moves written deliveries (the outbox) to the webhook queue: BullMQ job id = delivery id, so two relays
 * (two workers) or a relay that dies between the enqueue and the mark enqueue a delivery once.
 * Reads across tenants on the owner connection, like the job reconciler.
 */
export class WebhookRelay {
  constructor(
    private readonly systemDb: PrismaClient,
    private readonly queue: Queue,
    private readonly opts: RelayOptions,
  ) {}

  /** One pass; returns how many deliveries it enqueued. */
  async relay(): Promise<number> {
    const rows = await this.systemDb.webhookDelivery.findMany({
      where: { status: 'PENDING', enqueuedAt: null },
      orderBy: { createdAt: 'asc' },
      take: this.opts.batch ?? 100,
      select: { id: true, tenantId: true },
    });
    for (const row of rows) {
      await this.enqueue({ tenantId: row.tenantId, deliveryId: row.id });
      await this.systemDb.webhookDelivery.updateMany({
        where: { id: row.id, enqueuedAt: null },
        data: { enqueuedAt: new Date() },
      });
    }
    return rows.length;
  }

  /**
   * Re-enqueues deliveries the queue lost: a PENDING delivery marked enqueued more than
   * `recheckAfterMs` ago whose BullMQ job no longer exists (Redis flushed or restarted without
   * persistence). A delivery whose job still exists (waiting, delayed for backoff, active) is left
   * alone. Either way `enqueuedAt` becomes now, so `enqueuedAt` reads "last seen queued" and each pass
   * checks the deliveries seen longest ago. Returns how many it re-enqueued. At-least-once: a receiver
   * may see a delivery twice (same delivery id header) and must deduplicate on it.
   */
  async recoverLost(now: Date = new Date()): Promise<number> {
    const before = new Date(now.getTime() - (this.opts.recheckAfterMs ?? WEBHOOK_RECHECK_AFTER_MS));
    const rows = await this.systemDb.webhookDelivery.findMany({
      where: { status: 'PENDING', enqueuedAt: { lt: before } },
      orderBy: { enqueuedAt: 'asc' },
      take: this.opts.batch ?? 100,
      select: { id: true, tenantId: true },
    });
    let requeued = 0;
    for (const row of rows) {
      if (!(await this.queue.getJob(row.id))) {
        await this.enqueue({ tenantId: row.tenantId, deliveryId: row.id });
        requeued++;
      }
      await this.systemDb.webhookDelivery.updateMany({
        where: { id: row.id, status: 'PENDING' },
        data: { enqueuedAt: now },
      });
    }
    return requeued;
  }

  private async enqueue(payload: WebhookDeliveryPayload): Promise<void> {
    const def = WEBHOOK_DELIVERY_JOB;
    await this.queue.add(`${def.name}@v${def.version}`, def.payload.parse(payload), {
      jobId: payload.deliveryId,
      attempts: this.opts.maxAttempts,
      backoff: { type: 'exponential', delay: this.opts.backoffMs },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }
}
