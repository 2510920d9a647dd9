import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS } from '@modelsmith/contracts';
import { HandlesJob, type JobContext, type JobHandler } from '../runtime/job-handler';

const STAGES = ['preparing', 'working', 'finishing'] as const;
const MAX_DURATION_MS = 600_000;

/** `options.durationMs` of a noop job (how long it runs), within 0..10 min; 150 ms when absent. */
export function noopDurationMs(options: unknown): number {
  const raw = typeof options === 'object' && options !== null ? (options as { durationMs?: unknown }).durationMs : undefined;
  return typeof raw === 'number' && Number.isFinite(raw) ? Math.max(0, Math.min(MAX_DURATION_MS, raw)) : 150;
}

/** A diagnostic job: walks through stages with progress so the whole pipeline can be checked end to end. */
@Injectable()
@HandlesJob(JOBS.noop)
export class NoopHandler implements JobHandler {
  async handle(ctx: JobContext): Promise<Record<string, unknown>> {
    const started = Date.now();
    const stepMs = noopDurationMs(ctx.job.options) / STAGES.length;
    for (const [i, stage] of STAGES.entries()) {
      ctx.throwIfStopped();
      await ctx.progress({ stage, percent: ((i + 1) / STAGES.length) * 100, etaSeconds: ((STAGES.length - i - 1) * stepMs) / 1000 });
      await sleep(stepMs, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
    ctx.throwIfStopped();
    return { ok: true, elapsedMs: Date.now() - started };
  }
}
