import { ProblemError } from '@modelsmith/http';
import { StorageError } from '@modelsmith/storage';

/** A refused presigned URL: 403, never data, never a hint of what exists. */
export function urlRefused(reason: string): ProblemError {
  return new ProblemError({
    status: 403,
    code: 'FORBIDDEN',
    title: 'Invalid or expired URL',
    detail: `this object URL is not valid: ${reason}`,
  });
}

/** Problems for the store's errors on the object routes (never a 500 for a client's mistake). */
export function objectProblem(e: unknown): unknown {
  if (!(e instanceof StorageError)) return e;
  switch (e.code) {
    case 'OBJECT_NOT_FOUND':
    case 'UPLOAD_NOT_FOUND':
    case 'INVALID_KEY':
      return new ProblemError({
        status: 404,
        code: 'NOT_FOUND',
        title: 'Not found',
        detail:
          e.code === 'UPLOAD_NOT_FOUND'
            ? 'the upload does not exist or is finished'
            : 'the object does not exist',
      });
    case 'ENTITY_TOO_LARGE':
      return new ProblemError({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        title: 'Part too large',
        detail: e.message,
      });
    case 'INVALID_ARGUMENT':
    case 'INVALID_PART':
    case 'INVALID_RANGE':
      return new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Bad request', detail: e.message });
    case 'STORAGE_UNAVAILABLE':
      return new ProblemError({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        title: 'Object store unavailable',
        detail: 'the object store cannot serve right now; retry shortly',
        headers: { 'Retry-After': '2' },
      });
    case 'BUCKET_NOT_FOUND':
    case 'NOT_SUPPORTED_BY_BACKEND':
    case 'STORAGE_CONFIG_INVALID':
    case 'STORAGE_ERROR':
      return e;
  }
}
