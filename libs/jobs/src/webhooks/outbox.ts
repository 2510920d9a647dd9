import type { Deployment, Job, Prisma, WebhookEvent } from '@modelsmith/db';
import type { WebhookEventType } from '@modelsmith/contracts';

type Tx = Prisma.TransactionClient;

/**
 * Writes an event and one PENDING delivery per enabled endpoint subscribed to its type, in the caller's
 * transaction (the one that made the event happen): the outbox. Nothing is sent here; the worker's relay
 * moves deliveries with `enqueued_at IS NULL` to the webhook queue once the transaction has committed,
 * so an event is neither lost (the process dies after the commit) nor sent for a change that rolled back.
 * Returns null when no endpoint wants it (nothing is written). `endpointId` sends to that endpoint only
 * (test-send), whatever it subscribed to.
 */
export async function recordWebhookEvent(
  tx: Tx,
  tenantId: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  opts: { endpointId?: string } = {},
): Promise<{ event: WebhookEvent; deliveryIds: string[] } | null> {
  const endpoints = await tx.webhookEndpoint.findMany({
    where: opts.endpointId ? { id: opts.endpointId } : { enabled: true, events: { has: type } },
    select: { id: true },
  });
  if (endpoints.length === 0) return null;
  const event = await tx.webhookEvent.create({
    data: { tenantId, type, data: data as Prisma.InputJsonValue },
  });
  const deliveryIds: string[] = [];
  for (const e of endpoints) {
    const d = await tx.webhookDelivery.create({
      data: { tenantId, endpointId: e.id, eventId: event.id },
      select: { id: true },
    });
    deliveryIds.push(d.id);
  }
  return { event, deliveryIds };
}

/** What a job event tells receivers about the job. */
export function jobEventData(job: Job): Record<string, unknown> {
  return {
    job: {
      id: job.id,
      kind: job.kind,
      status: job.status,
      datasetVersionId: job.datasetVersionId,
      modelId: job.modelId,
      result: job.result,
      failureCode: job.failureCode,
      failureReason: job.failureReason,
      computeSeconds: job.computeSeconds,
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
    },
  };
}

/** What a deployment event tells receivers about the deployment. */
export function deploymentEventData(d: Deployment): Record<string, unknown> {
  return {
    deployment: {
      id: d.id,
      name: d.name,
      status: d.status,
      modelId: d.modelId,
      createdAt: d.createdAt.toISOString(),
      updatedAt: d.updatedAt.toISOString(),
    },
  };
}

/** The body of a delivery: the same bytes on every attempt of every endpoint. */
export function webhookBody(event: Pick<WebhookEvent, 'id' | 'type' | 'createdAt' | 'data'>): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    data: event.data,
  });
}
