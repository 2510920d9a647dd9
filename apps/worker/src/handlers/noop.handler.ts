import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS } from '@modelsmith/contracts';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';

const STAGES = ['preparing', 'working', 'finishing'] as const;
/** How long a noop job runs when its options name no `durationMs` (0..10 min, checked by its inputs schema). */
const DEFAULT_DURATION_MS = 150;

/** A diagnostic job: walks through stages with progress so the whole pipeline can be checked end to end. */
@Injectable()
@HandlesJob(JOBS.noop)
export class NoopHandler implements JobHandler<typeof JOBS.noop> {
  async handle(ctx: JobContext<typeof JOBS.noop>): Promise<Record<string, unknown>> {
    const started = Date.now();
    const stepMs = (ctx.inputs.options?.durationMs ?? DEFAULT_DURATION_MS) / STAGES.length;
    for (const [i, stage] of STAGES.entries()) {
      ctx.throwIfStopped();
      await ctx.progress({
        stage,
        percent: ((i + 1) / STAGES.length) * 100,
        etaSeconds: ((STAGES.length - i - 1) * stepMs) / 1000,
      });
      await sleep(stepMs, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
    ctx.throwIfStopped();
    return { ok: true, elapsedMs: Date.now() - started };
  }
}
