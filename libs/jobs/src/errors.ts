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
