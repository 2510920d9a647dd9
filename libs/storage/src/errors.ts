/** Stable codes for every way an object-store call can fail. */
export type StorageErrorCode =
  | 'OBJECT_NOT_FOUND'
  | 'BUCKET_NOT_FOUND'
  | 'UPLOAD_NOT_FOUND'
  | 'INVALID_PART'
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'INVALID_RANGE'
  | 'ENTITY_TOO_LARGE'
  | 'NOT_SUPPORTED_BY_BACKEND'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_CONFIG_INVALID'
  | 'STORAGE_ERROR';

export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string | number>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchObject']);
const INVALID_PART_CODES = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);
const UNSUPPORTED_CODES = new Set(['NotImplemented', 'MethodNotAllowed']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
]);

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = e.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns an error thrown by the minio client (S3 error codes, network errors) into a StorageError.
 * `operation` names the call ("getObject"), `key` the object it was about.
 */
export function toStorageError(e: unknown, operation: string, key?: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = errorCode(e);
  const cause = e instanceof Error ? e.message : String(e);
  const details: Record<string, string> = { operation };
  if (key !== undefined) details.key = key;
  if (code !== undefined) details.backendCode = code;
  if (code !== undefined && NOT_FOUND_CODES.has(code)) {
    return new StorageError('OBJECT_NOT_FOUND', `object "${key ?? ''}" does not exist`, details, {
      cause: e,
    });
  }
  if (code === 'NoSuchBucket')
    return new StorageError('BUCKET_NOT_FOUND', `bucket does not exist (${operation})`, details, {
      cause: e,
    });
  if (code === 'NoSuchUpload') {
    return new StorageError(
      'UPLOAD_NOT_FOUND',
      `multipart upload for "${key ?? ''}" does not exist`,
      details,
      { cause: e },
    );
  }
  if (code !== undefined && INVALID_PART_CODES.has(code)) {
    return new StorageError(
      'INVALID_PART',
      `a part of the multipart upload for "${key ?? ''}" is missing, too small or has another ETag`,
      details,
      { cause: e },
    );
  }
  if (code === 'InvalidRange')
    return new StorageError('INVALID_RANGE', `range not satisfiable for "${key ?? ''}"`, details, {
      cause: e,
    });
  if (code !== undefined && UNSUPPORTED_CODES.has(code)) {
    return new StorageError(
      'NOT_SUPPORTED_BY_BACKEND',
      `the object store does not implement ${operation}: ${cause}`,
      details,
      { cause: e },
    );
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new StorageError(
      'STORAGE_UNAVAILABLE',
      `object store unreachable during ${operation}: ${cause}`,
      details,
      { cause: e },
    );
  }
  return new StorageError('STORAGE_ERROR', `object store ${operation} failed: ${cause}`, details, {
    cause: e,
  });
}
