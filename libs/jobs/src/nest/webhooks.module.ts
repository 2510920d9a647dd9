import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { WEBHOOK_QUEUE } from '@modelsmith/contracts';
import type { PrismaClient } from '@modelsmith/db';
import { APP_PRISMA, SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { WebhookDeliverer } from '../webhooks/deliverer';
import { WebhookRelay } from '../webhooks/relay';

/**
 * The webhook queue, its relay (outbox -> queue) and the deliverer; needs ConfigModule, DbModule and
 * QueueModule (its BullMQ connection). The worker consumes the queue (apps/worker/src/webhooks).
 */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_QUEUE })],
  providers: [
    {
      provide: WebhookRelay,
      inject: [SYSTEM_PRISMA, getQueueToken(WEBHOOK_QUEUE), APP_CONFIG],
      useFactory: (db: PrismaClient, queue: Queue, config: AppConfig) =>
        new WebhookRelay(db, queue, {
          maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
          backoffMs: config.WEBHOOK_BACKOFF_MS,
        }),
    },
    {
      provide: WebhookDeliverer,
      inject: [APP_PRISMA, APP_CONFIG],
      useFactory: (db: PrismaClient, config: AppConfig) =>
        new WebhookDeliverer(db, {
          policy: { allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE_TARGETS },
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        }),
    },
  ],
  exports: [BullModule, WebhookRelay, WebhookDeliverer],
})
export class WebhooksModule {}
