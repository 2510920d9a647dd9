import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES } from '@modelsmith/contracts';

import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { JobRunnerService } from './job-runner.service';

/**
 * BullMQ worker options of the job and trial queues (the @Processor decorators hold this object).
 * `lockDuration` (WORKER_LOCK_DURATION_MS, default 30 s): a worker that stops renewing a job's lock
 * (killed, or its event loop starved for that long) loses the job to another worker.
 */
export const workerOptions = { lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 5 };

/** Applies the configuration to `workerOptions`; call before the worker module is instantiated. */
export function configureWorkerOptions(config: Pick<AppConfig, 'WORKER_LOCK_DURATION_MS'>): void {
  workerOptions.lockDuration = config.WORKER_LOCK_DURATION_MS;
  // The stalled check runs at half the lock's duration (BullMQ's lock renewal runs at half too).
  workerOptions.stalledInterval = Math.round(config.WORKER_LOCK_DURATION_MS / 2);
}

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
