import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { JobDispatcher, repairStuckDatasetVersions } from '@modelsmith/jobs';

const INTERVAL_MS = 15_000;

export interface ReconcileCounts {
  /** QUEUED rows that had never reached the queue, now enqueued. */
  enqueued: number;
  /** Rows whose BullMQ delivery had already failed for good, now FAILED. */
  failed: number;
  /** Rows whose BullMQ job had vanished, enqueued again. */
  requeued: number;
  /** Dataset versions stuck in a building state behind a FAILED/CANCELLED job, now ended the same way. */
  repairedVersions: number;
}

/**
 * Every 15 s: re-enqueues accepted jobs that never reached the queue (e.g. Redis was down when they
 * were created), finishes jobs BullMQ gave up on behind the row's back, and ends dataset versions
 * left building after their ingestion job ended. Each step is idempotent; a failing step is logged
 * and does not stop the others.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly dispatcher: JobDispatcher,
    @Inject(SYSTEM_PRISMA) private readonly systemDb: PrismaClient,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<ReconcileCounts> {
    const counts: ReconcileCounts = { enqueued: 0, failed: 0, requeued: 0, repairedVersions: 0 };
    if (this.running) return counts;
    this.running = true;
    try {
      counts.enqueued = await this.step('re-enqueue', () => this.dispatcher.reconcile(), 0);
      Object.assign(
        counts,
        await this.step('abandoned jobs', () => this.dispatcher.reconcileAbandoned(), {
          failed: 0,
          requeued: 0,
        }),
      );
      counts.repairedVersions = (
        await this.step('stuck dataset versions', () => repairStuckDatasetVersions(this.systemDb), [])
      ).length;
      if (counts.enqueued > 0)
        this.logger.warn(`re-enqueued ${counts.enqueued} job(s) that had not reached the queue`);
      if (counts.failed > 0)
        this.logger.warn(`recorded ${counts.failed} job(s) FAILED that the queue had given up on`);
      if (counts.requeued > 0)
        this.logger.warn(`enqueued ${counts.requeued} job(s) again that the queue had lost`);
      if (counts.repairedVersions > 0)
        this.logger.warn(
          `ended ${counts.repairedVersions} dataset version(s) left building after their job ended`,
        );
      return counts;
    } finally {
      this.running = false;
    }
  }

  private async step<T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      this.logger.warn(`reconcile (${what}) failed: ${e instanceof Error ? e.message : String(e)}`);
      return fallback;
    }
  }
}
