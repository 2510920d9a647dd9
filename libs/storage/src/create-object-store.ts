import { resolve } from 'node:path';
import { apiPublicUrl, type AppConfig } from '@modelsmith/config';
import { StorageError } from './errors';
import { FsObjectStore } from './fs/fs-object-store';
import type { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3-object-store';

/**
 * The object store the configuration asks for: with S3_ENDPOINT the S3 driver (MinIO, AWS S3);
 * without it the filesystem driver under STORAGE_DIR. The only place a driver is chosen.
 */
export function createObjectStore(config: AppConfig): ObjectStore {
  if (config.S3_ENDPOINT !== undefined) {
    if (config.S3_ACCESS_KEY === undefined || config.S3_SECRET_KEY === undefined) {
      throw new StorageError(
        'STORAGE_CONFIG_INVALID',
        'S3_ACCESS_KEY and S3_SECRET_KEY are required with S3_ENDPOINT',
      );
    }
    return new S3ObjectStore({
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      accessKey: config.S3_ACCESS_KEY,
      secretKey: config.S3_SECRET_KEY,
      bucket: config.S3_BUCKET,
      ...(config.S3_PUBLIC_ENDPOINT ? { publicEndpoint: config.S3_PUBLIC_ENDPOINT } : {}),
    });
  }
  if (config.STORAGE_DIR === undefined)
    throw new StorageError(
      'STORAGE_CONFIG_INVALID',
      'set S3_ENDPOINT (S3 driver) or STORAGE_DIR (filesystem driver)',
    );
  return new FsObjectStore({
    directory: resolve(config.STORAGE_DIR),
    ...(config.STORAGE_URL_SECRET
      ? { urls: { secret: config.STORAGE_URL_SECRET, baseUrl: apiPublicUrl(config) } }
      : {}),
  });
}
