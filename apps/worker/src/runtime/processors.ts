import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES } from '@modelsmith/contracts';

import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { JobRunnerService } from './job-runner.service';

export const workerOptions = { lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 5 };

abstract class QueueProcessor extends WorkerHost implements OnModuleInit {
  protected abstract readonly logger: Logger;

  constructor(
    private readonly runner: JobRunnerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
  }

  process(job: Job, token?: string): Promise<unknown> {
    return this.runner.run(job, token);
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn(`queue connection error: ${error.message}`);
  }
}

@Processor(QUEUES.cpu, workerOptions)
export class CpuQueueProcessor extends QueueProcessor {
  protected readonly logger = new Logger('CpuQueue');
}

@Processor(QUEUES.gpu, workerOptions)
export class GpuQueueProcessor extends QueueProcessor {
  protected readonly logger = new Logger('GpuQueue');
}
