import { Global, Logger, Module } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import type { PrismaClient } from '@modelsmith/db';
import { APP_PRISMA, SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { JobStore } from '../job-store';
import { JobDispatcher, type QueueMap } from '../dispatcher';
import { JobRouter } from '../routing';
import { JobSubmitter } from '../submit';
import { DatasetVersionStore } from '../stores/dataset-version-store';
import { ModelStore } from '../stores/model-store';
import { TrialStore } from '../stores/trial-store';
import { QUEUE_MAP } from './queue.module';

/** JobStore (tenant-scoped, row-level security), JobDispatcher, JobRouter, JobSubmitter, DatasetVersionStore, ModelStore and TrialStore; needs ConfigModule, DbModule and QueueModule. */
@Global()
@Module({
  providers: [
    {
      provide: JobStore,
      inject: [APP_PRISMA, SYSTEM_PRISMA, APP_CONFIG],
      useFactory: (db: PrismaClient, systemDb: PrismaClient, config: AppConfig) =>
        new JobStore(db, {
          systemDb,
          limits: {
            globalMaxRunning: config.JOBS_GLOBAL_MAX_RUNNING,
            heartbeatStaleMs: config.JOBS_HEARTBEAT_STALE_SECONDS * 1000,
          },
        }),
    },
    {
      provide: JobDispatcher,
      inject: [QUEUE_MAP, JobStore, SYSTEM_PRISMA, APP_CONFIG],
      useFactory: (queues: QueueMap, store: JobStore, db: PrismaClient, config: AppConfig) =>
        new JobDispatcher(queues, store, db, config.JOB_RETRY_BACKOFF_MS),
    },
    { provide: JobRouter, inject: [QUEUE_MAP], useFactory: (queues: QueueMap) => new JobRouter(queues) },
    {
      provide: JobSubmitter,
      inject: [JobStore, JobDispatcher, JobRouter],
      useFactory: (store: JobStore, dispatcher: JobDispatcher, router: JobRouter) =>
        new JobSubmitter(store, dispatcher, router, new Logger('Jobs')),
    },
    {
      provide: DatasetVersionStore,
      inject: [APP_PRISMA],
      useFactory: (db: PrismaClient) => new DatasetVersionStore(db),
    },
    { provide: ModelStore, inject: [APP_PRISMA], useFactory: (db: PrismaClient) => new ModelStore(db) },
    { provide: TrialStore, inject: [APP_PRISMA], useFactory: (db: PrismaClient) => new TrialStore(db) },
  ],
  exports: [JobStore, JobDispatcher, JobRouter, JobSubmitter, DatasetVersionStore, ModelStore, TrialStore],
})
export class JobStoreModule {}
