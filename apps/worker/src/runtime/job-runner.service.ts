import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { hostname } from 'node:os';
import type { Job as BullJob } from 'bullmq';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { JOBS, type JobDefinition } from '@modelsmith/contracts';
import { JobStore } from '@modelsmith/jobs';
import { buildHandlerMap } from './handler-registry';
import { JOB_HANDLER, type JobHandler } from './job-handler';
import { JobRunner } from './job-runner';
import { ShutdownSignal } from './shutdown-signal';

export const WORKER_ID = `${hostname()}:${process.pid}`;

/** Discovers the @HandlesJob providers at boot (failing on missing/duplicate handlers) and runs deliveries. */
@Injectable()
export class JobRunnerService implements OnModuleInit {
  private readonly logger = new Logger('JobRunner');
  private runner?: JobRunner;

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(JobStore) private readonly store: JobStore,
    private readonly shutdown: ShutdownSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const handlers = this.discovery.getProviders().flatMap((w) => {
      const def: unknown = w.metatype ? Reflect.getMetadata(JOB_HANDLER, w.metatype) : undefined;
      const instance: unknown = w.instance;
      return def && instance
        ? [
            {
              def: def as JobDefinition,
              handler: instance as JobHandler,
              name: w.metatype?.name ?? 'provider',
            },
          ]
        : [];
    });
    const map = buildHandlerMap(Object.values(JOBS), handlers);
    this.runner = new JobRunner(this.store, map, {
      workerId: WORKER_ID,
      shutdown: this.shutdown.signal,
      // The lock duration of the queue workers (processors.ts, configureWorkerOptions).
      lockDurationMs: this.config.WORKER_LOCK_DURATION_MS,
      logger: this.logger,
    });
    this.logger.log(`handlers registered for ${[...map.keys()].join(', ')}`);
  }

  run(job: BullJob, token?: string): Promise<unknown> {
    if (!this.runner) throw new Error('JobRunnerService used before module init');
    return this.runner.run(job, token);
  }
}
