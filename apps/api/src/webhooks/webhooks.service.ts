import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { withTenant, type PrismaClient, type WebhookEndpoint } from '@modelsmith/db';
import { APP_PRISMA } from '@modelsmith/db/nest';
import { notFound, ProblemError } from '@modelsmith/http';
import {
  assertTargetAllowed,
  generateWebhookSecret,
  parseTargetUrl,
  recordWebhookEvent,
  WebhookTargetError,
} from '@modelsmith/jobs';
import { page, type Page } from '../common/pagination';
import type {
  CreatedWebhookDto,
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookDeliveriesQueryDto,
  WebhookDeliveryDto,
  WebhookDto,
} from './dto/webhook.dto';

/** Most endpoints per tenant. */
export const MAX_WEBHOOKS_PER_TENANT = 20;

const targetRefused = (e: WebhookTargetError) =>
  new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Webhook target refused',
    detail: e.message,
    extensions: { reason: e.code, field: 'url' },
  });

function view(e: WebhookEndpoint): WebhookDto {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    enabled: e.enabled,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** Per-tenant webhook endpoints, their delivery log and test-sends (docs/webhooks.md). */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The URL, normalized, once every address of its host passed the target policy (422 otherwise). */
  private async checkedUrl(raw: string): Promise<string> {
    try {
      const url = parseTargetUrl(raw);
      await assertTargetAllowed(url, { allowPrivate: this.config.WEBHOOKS_ALLOW_PRIVATE_TARGETS });
      return url.toString();
    } catch (e) {
      if (e instanceof WebhookTargetError) throw targetRefused(e);
      throw e;
    }
  }

  async create(tenantId: string, body: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const url = await this.checkedUrl(body.url);
    const secret = generateWebhookSecret();
    const created = await withTenant(this.db, tenantId, async (tx) => {
      // Serialized per tenant, so two creates cannot both take the last slot.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('webhooks:' || ${tenantId}))`;
      const count = await tx.webhookEndpoint.count();
      if (count >= MAX_WEBHOOKS_PER_TENANT)
        throw new ProblemError({
          status: 409,
          code: 'CONFLICT',
          title: 'Too many webhook endpoints',
          detail: `a tenant may have at most ${MAX_WEBHOOKS_PER_TENANT} webhook endpoints; delete one first`,
        });
      return tx.webhookEndpoint.create({
        data: { tenantId, url, events: body.events, description: body.description ?? null, secret },
      });
    });
    return { ...view(created), secret };
  }

  async list(tenantId: string): Promise<WebhookDto[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.webhookEndpoint.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    );
    return rows.map(view);
  }

  async get(tenantId: string, id: string): Promise<WebhookDto> {
    return view(await this.find(tenantId, id));
  }

  private async find(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const found = await withTenant(this.db, tenantId, (tx) =>
      tx.webhookEndpoint.findUnique({ where: { id } }),
    );
    if (!found) throw notFound('webhook', id);
    return found;
  }

  async update(tenantId: string, id: string, body: UpdateWebhookDto): Promise<WebhookDto> {
    const url = body.url !== undefined ? await this.checkedUrl(body.url) : undefined;
    const updated = await withTenant(this.db, tenantId, async (tx) => {
      const r = await tx.webhookEndpoint.updateMany({
        where: { id },
        data: {
          ...(url !== undefined ? { url } : {}),
          ...(body.events !== undefined ? { events: body.events } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        },
      });
      return r.count === 0 ? null : tx.webhookEndpoint.findUnique({ where: { id } });
    });
    if (!updated) throw notFound('webhook', id);
    return view(updated);
  }

  async delete(tenantId: string, id: string): Promise<void> {
    const r = await withTenant(this.db, tenantId, (tx) => tx.webhookEndpoint.deleteMany({ where: { id } }));
    if (r.count === 0) throw notFound('webhook', id);
  }

  /** Queues a `webhook.test` event to this endpoint only (sent even when the endpoint is disabled). */
  async test(tenantId: string, id: string): Promise<{ eventId: string; deliveryId: string }> {
    const r = await withTenant(this.db, tenantId, async (tx) => {
      const endpoint = await tx.webhookEndpoint.findUnique({ where: { id }, select: { id: true } });
      if (!endpoint) return null;
      return recordWebhookEvent(
        tx,
        tenantId,
        'webhook.test',
        { webhook: { id }, message: 'a test event sent from POST /v1/webhooks/:id/test' },
        { endpointId: id },
      );
    });
    if (!r) throw notFound('webhook', id);
    return { eventId: r.event.id, deliveryId: r.deliveryIds[0] };
  }

  /** The endpoint's deliveries, newest first, each with its attempts (status, latency, error). */
  async deliveries(
    tenantId: string,
    id: string,
    q: WebhookDeliveriesQueryDto,
  ): Promise<Page<WebhookDeliveryDto>> {
    await this.find(tenantId, id);
    const rows = await withTenant(this.db, tenantId, (tx) =>
      tx.webhookDelivery.findMany({
        where: { endpointId: id, ...(q.status ? { status: q.status } : {}) },
        include: {
          event: { select: { type: true } },
          attemptsLog: { orderBy: { attempt: 'asc' }, take: 50 },
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: q.limit + 1,
        ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
      }),
    );
    const p = page(rows, q.limit);
    return {
      nextCursor: p.nextCursor,
      items: p.items.map((d) => ({
        id: d.id,
        eventId: d.eventId,
        eventType: d.event.type,
        status: d.status,
        attempts: d.attempts,
        createdAt: d.createdAt,
        finishedAt: d.finishedAt,
        log: d.attemptsLog.map((a) => ({
          attempt: a.attempt,
          statusCode: a.statusCode,
          latencyMs: a.latencyMs,
          error: a.error,
          createdAt: a.createdAt,
        })),
      })),
    };
  }
}
