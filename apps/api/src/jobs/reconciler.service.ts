import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JobDispatcher } from '@modelsmith/jobs';

const INTERVAL_MS = 15_000;

/** Re-enqueues accepted jobs that never reached the queue (e.g. Redis was down when they were created). */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly dispatcher: JobDispatcher) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const n = await this.dispatcher.reconcile();
      if (n > 0) this.logger.warn(`re-enqueued ${n} job(s) that had not reached the queue`);
      return n;
    } catch (e) {
      this.logger.warn(`reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
