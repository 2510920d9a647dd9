/** A failure that retrying cannot fix (bad input, missing rows). The job is marked FAILED at once. */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** The job was cancelled by its owner; the runner marks it CANCELLED. */
export class JobCancelledError extends Error {
  readonly code = 'JOB_CANCELLED';
  constructor(message = 'the job was cancelled') {
    super(message);
    this.name = 'JobCancelledError';
  }
}

/** The worker is shutting down; the job checkpointed and goes back to the queue. */
export class JobInterruptedError extends Error {
  readonly code = 'JOB_INTERRUPTED';
  constructor(message = 'the worker is shutting down; the job will resume elsewhere') {
    super(message);
    this.name = 'JobInterruptedError';
  }
}

/**
 * Another delivery of the same job started it after this one did (BullMQ delivered it again once this
 * delivery's queue lock was lost, e.g. its event loop was starved): the row belongs to the newer
 * delivery, and this one stops without writing to it. `JobStore` throws it for a write that names a
 * stale owner; the runner aborts the handler with it.
 */
export class JobTakenOverError extends Error {
  readonly code = 'JOB_TAKEN_OVER';
  constructor(message = 'another delivery of this job has started it since') {
    super(message);
    this.name = 'JobTakenOverError';
  }
}
