/** Too much work is waiting for a model: the request is shed instead of queued (HTTP 503 + Retry-After). */
export class ServingOverloadedError extends Error {
  override readonly name = 'ServingOverloadedError';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A request's deadline passed before its images were predicted (HTTP 503 + Retry-After). */
export class ServingTimeoutError extends Error {
  override readonly name = 'ServingTimeoutError';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The engine was closed; work still queued is refused with this. */
export class ServingClosedError extends Error {
  override readonly name = 'ServingClosedError';

  constructor() {
    super('the serving engine is closed');
  }
}
