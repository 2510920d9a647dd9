import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TRIAL_QUEUE } from '@modelsmith/contracts';
import { DiscoveryModule } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '@modelsmith/config';
import { ConfigModule } from '@modelsmith/config/nest';
import { DbModule } from '@modelsmith/db/nest';
import { JobStoreModule, QueueModule, WebhooksModule } from '@modelsmith/jobs/nest';
import { StorageModule } from '@modelsmith/storage/nest';
import { loggerParams } from './logging';
import { WorkerHealthController } from './health/health.controller';
import { BatchPredictHandler } from './handlers/batch-predict.handler';
import { IngestDatasetHandler } from './handlers/ingest-dataset.handler';
import { NoopHandler } from './handlers/noop.handler';
import { TrainHandler } from './handlers/train.handler';
import { AutoSearchJob } from './training/search/search-job';
import { TabularBatchPredictor } from './handlers/tabular-batch-predict';
import { JobRunnerService } from './runtime/job-runner.service';
import { configureWorkerOptions, CpuQueueProcessor, GpuQueueProcessor } from './runtime/processors';
import { ShutdownSignal } from './runtime/shutdown-signal';
import { TrialProcessor } from './runtime/trial.processor';
import { TabularTrainService } from './training/tabular-train.service';
import { WebhookProcessor } from './webhooks/webhook.processor';
import { WebhookRelayService } from './webhooks/webhook-relay.service';

/** Every job handler of the worker; boot fails unless each job definition has exactly one. */
export const HANDLERS: Provider[] = [NoopHandler, IngestDatasetHandler, TrainHandler, BatchPredictHandler];

/**
 * The worker's interactive transactions (withTenant) may run 60 s and wait 30 s to start, where the
 * API's get 10 s and 5 s: training holds the worker's event loop for seconds at a time (its
 * synchronous kernels; a 2-minute search job measured holds of 11.8-17.8 s before its long steps took
 * turns of the loop, 2.8-3.2 s after; the JobRunner logs them),
 * and a transaction whose timer expires during such a hold fails the job's attempt ("A commit cannot
 * be executed on an expired transaction") though its database work took milliseconds.
 */
export const WORKER_TRANSACTIONS = { timeoutMs: 60_000, maxWaitMs: 30_000 };

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    configureWorkerOptions(config);
    const processors = [
      ...(config.WORKER_QUEUES.includes('cpu') ? [CpuQueueProcessor] : []),
      ...(config.WORKER_QUEUES.includes('gpu') ? [GpuQueueProcessor] : []),
    ];
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config)),
        DiscoveryModule,
        DbModule.forRoot(config, WORKER_TRANSACTIONS),
        StorageModule.forRoot(config),
        QueueModule.forRoot(config),
        JobStoreModule,
        WebhooksModule,
        BullModule.registerQueue({ name: TRIAL_QUEUE }),
      ],
      controllers: [WorkerHealthController],
      providers: [
        ShutdownSignal,
        JobRunnerService,
        AutoSearchJob,
        TabularTrainService,
        TabularBatchPredictor,
        ...processors,
        // Every worker trains search trials, whichever queue class it consumes.
        TrialProcessor,
        ...HANDLERS,
        WebhookProcessor,
        WebhookRelayService,
      ],
    };
  }
}
