import { z } from 'zod';

/**
 * Webhook deliveries have their own queue (docs/webhooks.md): one BullMQ job per delivery row, job id =
 * row id, retried with exponential backoff. Like the job queues, its payload carries ids only.
 */
export const WEBHOOK_QUEUE = 'modelsmith-webhooks' as const;

export const WEBHOOK_DELIVERY_JOB = Object.freeze({
  name: 'webhook.deliver',
  version: 1,
  payload: z.object({
    tenantId: z.string().min(1).max(64),
    deliveryId: z.string().min(1).max(64),
  }),
});
export type WebhookDeliveryPayload = z.infer<typeof WEBHOOK_DELIVERY_JOB.payload>;

/** Event types an endpoint may subscribe to. `webhook.test` goes only to the endpoint it is sent to. */
export const WEBHOOK_EVENT_TYPES = [
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'deployment.created',
  'deployment.updated',
  'deployment.activated',
  'deployment.deactivated',
  'deployment.deleted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | 'webhook.test';
