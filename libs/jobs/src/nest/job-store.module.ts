import { Global, Module } from '@nestjs/common';
import { APP_PRISMA, SYSTEM_PRISMA, type PrismaClient } from '@modelsmith/db';
import { JobStore } from '../job-store';
import { JobDispatcher, type QueueMap } from '../dispatcher';
import { QUEUE_MAP } from './queue.module';

/** JobStore (tenant-scoped, row-level security) and JobDispatcher; needs DbModule and QueueModule. */
@Global()
@Module({
  providers: [
    { provide: JobStore, inject: [APP_PRISMA], useFactory: (db: PrismaClient) => new JobStore(db) },
    {
      provide: JobDispatcher,
      inject: [QUEUE_MAP, JobStore, SYSTEM_PRISMA],
      useFactory: (queues: QueueMap, store: JobStore, db: PrismaClient) => new JobDispatcher(queues, store, db),
    },
  ],
  exports: [JobStore, JobDispatcher],
})
export class JobStoreModule {}
