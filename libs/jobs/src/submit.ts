import type { Prisma, Job } from '@modelsmith/db';
import {
  parseJobInputs,
  type JobDefinition,
  type JobRowInputs,
  type SubmittedInputsOf,
} from '@modelsmith/contracts';
import type { JobDispatcher } from './dispatcher';
import type { JobStore } from './job-store';
import type { Accelerator, JobRouter } from './routing';

export interface Submission<D extends JobDefinition> {
  /** Parsed with the definition's `inputs` schema before anything is written. */
  inputs: SubmittedInputsOf<D>;
  /** -100..100, larger runs earlier (default 0). */
  priority?: number;
  accelerator?: Accelerator;
}

function columns(inputs: JobRowInputs) {
  return {
    datasetVersionId: inputs.datasetVersionId ?? null,
    modelId: inputs.modelId ?? null,
    mode: inputs.mode ?? null,
    ...(inputs.budget !== undefined ? { budget: inputs.budget as Prisma.InputJsonObject } : {}),
    ...(inputs.options !== undefined ? { options: inputs.options as Prisma.InputJsonObject } : {}),
  };
}

export interface SubmitLogger {
  warn(message: string): void;
}

/**
 * The one way a job comes into being: parses its inputs (InvalidJobInputsError), routes it to the cpu
 * or gpu queue (UnroutableJobError), checks the tenant's quotas (QuotaExceededError,
 * TooManyActiveJobsError) while writing the row and its `queued` event, then enqueues it. If
 * enqueueing fails the job is accepted all the same and the reconciler enqueues it later.
 */
export class JobSubmitter {
  constructor(
    private readonly store: JobStore,
    private readonly dispatcher: JobDispatcher,
    private readonly router: JobRouter,
    private readonly logger: SubmitLogger = { warn: () => undefined },
  ) {}

  async submit<D extends JobDefinition>(tenantId: string, def: D, s: Submission<D>): Promise<Job> {
    const inputs: JobRowInputs = parseJobInputs(def, s.inputs);
    const queue = await this.router.route(def, s.accelerator ?? 'auto');
    const job = await this.store.create(
      tenantId,
      { kind: def.kind, queue, priority: s.priority ?? 0, ...columns(inputs) },
      { enforceQuota: true },
    );
    try {
      await this.dispatcher.enqueue(job);
    } catch (e) {
      this.logger.warn(
        `job ${job.id} accepted but not enqueued yet (${e instanceof Error ? e.message : String(e)}); the reconciler will retry`,
      );
    }
    return (await this.store.get(tenantId, job.id)) ?? job;
  }
}
