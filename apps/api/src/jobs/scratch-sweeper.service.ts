import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import type { ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { sweepJobScratch, type ScratchSweepResult } from './scratch-sweep';

/** Runs sweepJobScratch every JOBS_SCRATCH_SWEEP_INTERVAL_SECONDS (one sweep at a time). */
@Injectable()
export class ScratchSweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ScratchSweep');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(SYSTEM_PRISMA) private readonly db: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.JOBS_SCRATCH_SWEEP_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<ScratchSweepResult | null> {
    if (this.running) return null;
    this.running = true;
    try {
      const result = await sweepJobScratch(this.db, this.store, {
        retentionMs: this.config.JOBS_SCRATCH_RETENTION_HOURS * 3_600_000,
        log: (m) => this.logger.warn(m),
      });
      if (result.jobs > 0 || result.failed > 0)
        this.logger.log(
          `cleared the scratch of ${result.jobs} finished job(s): ${result.objects} object(s) deleted, ${result.failed} left for the next sweep`,
        );
      return result;
    } catch (e) {
      this.logger.warn(`scratch sweep failed: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    } finally {
      this.running = false;
    }
  }
}
