import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';
import type { InputsOf, JobDefinition, JobRef } from '@modelsmith/contracts';
import type { Job } from '@modelsmith/db';
import type { JobProgress, Tx } from '@modelsmith/jobs';

export const JOB_HANDLER = 'modelsmith:job-handler';

/** Marks a provider as the handler of one job definition. Boot fails unless each definition has exactly one. */
export const HandlesJob = (def: JobDefinition) => SetMetadata(JOB_HANDLER, def);

export interface JobContext<D extends JobDefinition = JobDefinition> {
  readonly payload: z.output<D['payload']> & JobRef;
  /** The row's inputs, parsed with the definition's schema before the handler runs. */
  readonly inputs: InputsOf<D>;
  readonly job: Job;
  /** Aborted when the owner cancels the job (reason: JobCancelledError) or the worker shuts down (JobInterruptedError). */
  readonly signal: AbortSignal;
  /**
   * The `attempts` this delivery's start wrote: passed to JobStore's writes (`update`, `progress`),
   * they refuse a delivery that another start of the job has replaced (JobTakenOverError).
   */
  readonly owner: number;
  /** Persists progress (row + event); throttle heavy callers yourself. */
  progress(p: JobProgress): Promise<void>;
  /** Throws the abort reason if the job should stop now; call at step boundaries. */
  throwIfStopped(): void;
  /**
   * Registers writes that land in the transaction recording the job SUCCEEDED (and never if it ends
   * any other way), in registration order: a resource the job built becomes visible together with the
   * job's success.
   */
  commitOnSuccess(write: (tx: Tx) => Promise<void>): void;
}

export interface JobHandler<D extends JobDefinition = JobDefinition> {
  /** Returns the JSON result stored on the job row. */
  handle(ctx: JobContext<D>): Promise<Record<string, unknown> | void>;
  /**
   * Housekeeping once the job is recorded SUCCEEDED, such as deleting what a retry would have needed
   * (checkpoints): done before that, a crash in between left a retry with nothing to resume from.
   * A failure here is logged and never changes the job's outcome.
   */
  afterSuccess?(ctx: JobContext<D>, result: Record<string, unknown>): Promise<void>;
}
