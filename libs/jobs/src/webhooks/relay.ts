import type { Queue } from 'bullmq';
import type { PrismaClient } from '@modelsmith/db';
import { WEBHOOK_DELIVERY_JOB, type WebhookDeliveryPayload } from '@modelsmith/contracts';

export interface RelayOptions {
  maxAttempts: number;
  backoffMs: number;
  /** Most deliveries moved per pass. */
  batch?: number;
}

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
