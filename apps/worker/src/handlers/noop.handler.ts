import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS } from '@modelsmith/contracts';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';

/** A diagnostic job: walks through stages with progress so the whole pipeline can be checked end to end. */
@Injectable()
@HandlesJob(JOBS.noop)
export class NoopHandler implements JobHandler {
  async handle(ctx: JobContext): Promise<Record<string, unknown>> {
    const started = Date.now();
    for (const [i, stage] of ['preparing', 'working', 'finishing'].entries()) {
      ctx.throwIfStopped();
      await ctx.progress({ stage, percent: ((i + 1) / 3) * 100, etaSeconds: 0 });
      await sleep(50, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
    ctx.throwIfStopped();
    return { ok: true, elapsedMs: Date.now() - started };
  }
}
