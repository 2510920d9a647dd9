import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnModuleInit } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { WEBHOOK_DELIVERY_JOB, WEBHOOK_QUEUE } from '@modelsmith/contracts';
import { WebhookDeliverer } from '@modelsmith/jobs';

/** Deliveries in flight per worker process: they wait on the network, not the CPU. */
const CONCURRENCY = 8;

/**
 * One attempt per BullMQ delivery. A failed attempt throws, so BullMQ retries it with exponential
 * backoff (WEBHOOK_MAX_ATTEMPTS, WEBHOOK_BACKOFF_MS); a refused target or a bad payload throws
 * UnrecoverableError (no retry).
 */
@Processor(WEBHOOK_QUEUE)
export class WebhookProcessor extends WorkerHost implements OnModuleInit {
  private readonly logger = new Logger('Webhooks');

  constructor(@Inject(WebhookDeliverer) private readonly deliverer: WebhookDeliverer) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = CONCURRENCY;
  }

  async process(job: Job): Promise<void> {
    const parsed = WEBHOOK_DELIVERY_JOB.payload.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid webhook delivery payload: ${parsed.error.message}`);
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await this.deliverer.attempt(parsed.data, last);
    switch (outcome.kind) {
      case 'done':
        return;
      case 'permanent':
        throw new UnrecoverableError(outcome.error);
      case 'retry':
        throw new Error(outcome.error);
    }
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn(`queue connection error: ${error.message}`);
  }
}
