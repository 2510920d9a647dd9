import type { ClientOptions } from 'minio';
import { StorageError } from './errors';

export interface ObjectStoreConfig {
  /** S3 endpoint URL, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com. */
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /**
   * Endpoint that clients outside the deployment reach (e.g. http://localhost:9000 when the API
   * talks to http://minio:9000). Presigned URLs are signed for this host. Defaults to `endpoint`.
   */
  publicEndpoint?: string;
  /** Part size of streamed uploads (bytes, >= 5 MiB). Memory per upload stays around one part. */
  partSize?: number;
}

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** minio client options for an endpoint URL; path-style addressing so any S3 server works. */
export function clientOptions(endpoint: string, config: ObjectStoreConfig): ClientOptions {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StorageError('STORAGE_CONFIG_INVALID', `S3 endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StorageError('STORAGE_CONFIG_INVALID', `S3 endpoint "${endpoint}" must use http or https`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new StorageError('STORAGE_CONFIG_INVALID', `S3 endpoint "${endpoint}" must not have a path`);
  }
  const useSSL = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    endPoint: hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    region: config.region,
    pathStyle: true,
  };
}
