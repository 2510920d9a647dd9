import { z } from 'zod';

/**
 * Search trials as BullMQ child jobs: a search (TRAIN job, 'auto' mode) records each trial in the
 * `trials` table, then enqueues one job per trial here; any worker process consuming this queue
 * trains it and finishes its row. The payload names the trial; the row holds its configuration.
 * The BullMQ job id is `trial-<jobId>-<index>` (idempotent enqueue).
 */
export const TRIAL_QUEUE = 'modelsmith-trials' as const;

export const TRIAL_JOB = Object.freeze({
  name: 'search.trial',
  version: 1,
  payload: z.object({
    tenantId: z.string().min(1).max(64),
    /** The search's TRAIN job (the parent). */
    jobId: z.string().min(1).max(64),
    index: z.number().int().min(0).max(10_000),
  }),
});
export type TrialJobPayload = z.infer<typeof TRIAL_JOB.payload>;

/** The BullMQ job id of trial `index` of job `jobId` (one per trial: a re-enqueue is a no-op). */
export const trialJobId = (jobId: string, index: number): string => `trial-${jobId}-${index}`;
