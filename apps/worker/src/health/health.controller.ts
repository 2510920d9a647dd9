import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { QueueMap } from '@modelsmith/jobs';
import { QUEUE_MAP } from '@modelsmith/jobs/nest';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { WORKER_ID } from '../runtime/job-runner.service';
import { ShutdownSignal } from '../runtime/shutdown-signal';

async function check(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'up';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Worker liveness/readiness: Redis (through its queues), Postgres, and whether it is shutting down. */
@Controller()
export class WorkerHealthController {
  constructor(
    @Inject(QUEUE_MAP) private readonly queues: QueueMap,
    @Inject(SYSTEM_PRISMA) private readonly db: PrismaClient,
    private readonly shutdown: ShutdownSignal,
  ) {}

  @Get('health')
  @HttpCode(200)
  async health(@Res({ passthrough: true }) res: Response) {
    const redis = await check(async () => {
      for (const q of Object.values(this.queues)) await q.getWaitingCount();
    });
    const postgres = await check(() => this.db.$queryRaw`SELECT 1`);
    const draining = this.shutdown.signal.aborted;
    const ok = redis === 'up' && postgres === 'up' && !draining;
    if (!ok) res.status(503);
    return {
      status: ok ? 'ok' : draining ? 'draining' : 'degraded',
      workerId: WORKER_ID,
      checks: { redis, postgres },
      queues: Object.keys(this.queues),
    };
  }
}
