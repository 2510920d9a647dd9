import { withTenant, type PrismaClient } from '@modelsmith/db';
import type { WebhookDeliveryPayload } from '@modelsmith/contracts';
import { webhookBody } from './outbox';
import { sendWebhook, type SendResult } from './sender';
import { WEBHOOK_HEADERS, webhookSignature } from './signing';
import type { TargetPolicy } from './target-policy';

/** Most characters of an attempt's error kept in the log. */
const MAX_ERROR_CHARS = 500;

export interface DelivererOptions {
  policy: TargetPolicy;
  timeoutMs: number;
}

/** What one attempt came to, for the queue processor. */
export type AttemptOutcome =
  /** 2xx, or the delivery was already settled / is gone: nothing more to do. */
  | { kind: 'done' }
  /** Failed; BullMQ retries it (with backoff) unless this was the last attempt. */
  | { kind: 'retry'; error: string }
  /** Failed for good (refused target, endpoint deleted or disabled): no retry. */
  | { kind: 'permanent'; error: string };

/**
 * Runs one attempt of a delivery: reads the delivery, its endpoint and event under the tenant's
 * row-level security, signs a fresh timestamp, sends, and logs the attempt (status, latency, error) on
 * the delivery. `lastAttempt` turns a failure into a FAILED delivery.
 */
export class WebhookDeliverer {
  constructor(
    private readonly db: PrismaClient,
    private readonly opts: DelivererOptions,
    private readonly send: typeof sendWebhook = sendWebhook,
  ) {}

  async attempt(ref: WebhookDeliveryPayload, lastAttempt: boolean): Promise<AttemptOutcome> {
    const found = await withTenant(this.db, ref.tenantId, (tx) =>
      tx.webhookDelivery.findUnique({
        where: { id: ref.deliveryId },
        include: { endpoint: true, event: true },
      }),
    );
    if (!found || found.status !== 'PENDING') return { kind: 'done' };
    const { endpoint, event } = found;
    const attempt = found.attempts + 1;
    let result: SendResult;
    const isTest = event.type === 'webhook.test';
    if (!endpoint.enabled && !isTest) {
      result = { statusCode: null, latencyMs: 0, error: 'the endpoint is disabled', refused: true };
    } else {
      const body = webhookBody(event);
      const timestamp = Math.floor(Date.now() / 1000);
      result = await this.send(
        endpoint.url,
        body,
        {
          [WEBHOOK_HEADERS.id]: event.id,
          [WEBHOOK_HEADERS.delivery]: found.id,
          [WEBHOOK_HEADERS.event]: event.type,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: `v1=${webhookSignature(endpoint.secret, timestamp, body)}`,
        },
        this.opts,
      );
    }
    const ok = result.error === null;
    const final = ok || result.refused || lastAttempt;
    await withTenant(this.db, ref.tenantId, async (tx) => {
      await tx.webhookAttempt.create({
        data: {
          tenantId: ref.tenantId,
          deliveryId: found.id,
          attempt,
          statusCode: result.statusCode,
          latencyMs: Math.min(result.latencyMs, 2 ** 31 - 1),
          error: result.error?.slice(0, MAX_ERROR_CHARS) ?? null,
        },
      });
      await tx.webhookDelivery.updateMany({
        where: { id: found.id, status: 'PENDING' },
        data: {
          attempts: attempt,
          ...(final ? { status: ok ? 'SUCCEEDED' : 'FAILED', finishedAt: new Date() } : {}),
        },
      });
    });
    if (ok) return { kind: 'done' };
    return result.refused
      ? { kind: 'permanent', error: result.error ?? 'refused' }
      : { kind: 'retry', error: result.error ?? 'failed' };
  }
}
