import { isStorageError, StorageError, toStorageError } from './errors';

function s3Error(code: string): Error {
  return Object.assign(new Error(`S3 said ${code}`), { code });
}

describe('toStorageError', () => {
  it.each([
    ['NoSuchKey', 'OBJECT_NOT_FOUND'],
    ['NotFound', 'OBJECT_NOT_FOUND'],
    ['NoSuchBucket', 'BUCKET_NOT_FOUND'],
    ['NoSuchUpload', 'UPLOAD_NOT_FOUND'],
    ['InvalidRange', 'INVALID_RANGE'],
    ['NotImplemented', 'NOT_SUPPORTED_BY_BACKEND'],
    ['MethodNotAllowed', 'NOT_SUPPORTED_BY_BACKEND'],
    ['ECONNREFUSED', 'STORAGE_UNAVAILABLE'],
    ['AccessDenied', 'STORAGE_ERROR'],
  ])('maps %s to %s', (backend, code) => {
    const err = toStorageError(s3Error(backend), 'getObject', 'a/b');
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe(code);
    expect(err.details).toMatchObject({ operation: 'getObject', key: 'a/b', backendCode: backend });
    expect(isStorageError(err, code as StorageError['code'])).toBe(true);
  });

  it('keeps a StorageError as it is and wraps anything else', () => {
    const original = new StorageError('INVALID_KEY', 'bad');
    expect(toStorageError(original, 'x')).toBe(original);
    expect(toStorageError('boom', 'x').code).toBe('STORAGE_ERROR');
  });
});
