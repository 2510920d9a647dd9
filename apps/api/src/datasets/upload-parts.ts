import { ProblemError } from '@modelsmith/http';
import { isStorageError } from '@modelsmith/storage';

/** Part size of a presigned multipart upload: 8 MiB, more for files that would need over 10,000 parts. */
export function uploadPartSize(sizeBytes: number): number {
  return Math.max(8 * 1024 * 1024, Math.ceil(sizeBytes / 10_000));
}

/** A client's wrong part list is a 400, an upload the store no longer knows a 409; other errors pass through. */
export function completionProblem(e: unknown): unknown {
  if (isStorageError(e, 'INVALID_PART') || isStorageError(e, 'INVALID_ARGUMENT')) {
    return new ProblemError({
      status: 400,
      code: 'BAD_REQUEST',
      title: 'Invalid parts',
      detail: `${e.message}: upload every part, then send each part's number and the ETag its PUT returned`,
    });
  }
  if (isStorageError(e, 'UPLOAD_NOT_FOUND')) {
    return new ProblemError({
      status: 409,
      code: 'CONFLICT',
      title: 'Upload closed',
      detail: 'the object store no longer has this upload (completed or aborted)',
    });
  }
  return e;
}
