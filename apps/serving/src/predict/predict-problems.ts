import { ProblemError } from '@modelsmith/http';
import { ExplainError, ModelArtifactError, PreprocessError } from '@modelsmith/ml';
import {
  ModelInputMismatchError,
  ServingClosedError,
  ServingOverloadedError,
  ServingTimeoutError,
  TextInputError,
} from '@modelsmith/serving';

const unavailable = (title: string, detail: string, retryAfterSeconds: number, reason: string) =>
  new ProblemError({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    title,
    detail,
    extensions: { reason, retryAfterSeconds },
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

/** Too many predict requests in flight on this process: shed at the door, before reading the body. */
export const sheddingProblem = (limit: number): ProblemError =>
  unavailable(
    'Overloaded',
    `this serving process is answering ${limit} requests already; retry shortly`,
    1,
    'CONCURRENCY_LIMIT',
  );

/** Maps what the serving engine throws to the problem a client gets; anything else is rethrown as is. */
export function predictProblem(error: unknown): unknown {
  if (error instanceof ServingOverloadedError) {
    return unavailable(
      'Overloaded',
      `too many images are waiting for this model; ${error.message}`,
      error.retryAfterSeconds,
      'QUEUE_FULL',
    );
  }
  if (error instanceof ServingTimeoutError) {
    return unavailable(
      'Timed out',
      `the prediction was not ready in time; ${error.message}`,
      error.retryAfterSeconds,
      'TIMEOUT',
    );
  }
  if (error instanceof ServingClosedError)
    return unavailable('Shutting down', 'this serving process is stopping; retry', 1, 'SHUTTING_DOWN');
  if (error instanceof TextInputError) {
    return new ProblemError({
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Invalid predict request',
      detail: `${error.field}: ${error.message}`,
      extensions: { errors: [{ field: error.field, messages: [error.message] }] },
    });
  }
  if (error instanceof ModelInputMismatchError) {
    return new ProblemError({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Input does not fit the model',
      detail: error.message,
      extensions: { reason: 'MODEL_INPUT_MISMATCH', modelTask: error.modelTask },
    });
  }
  if (error instanceof PreprocessError) {
    return new ProblemError({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Image refused',
      detail: error.message,
      extensions: { reason: error.code },
    });
  }
  if (error instanceof ExplainError) {
    return new ProblemError({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Explanation refused',
      detail: error.message,
      extensions: { reason: error.code },
    });
  }
  if (error instanceof ModelArtifactError) {
    return new ProblemError({
      status: 422,
      code: 'UNPROCESSABLE',
      title: 'Model refused',
      detail: `the deployed model was refused and not loaded: ${error.message}`,
      extensions: { reason: error.code },
    });
  }
  return error;
}
