import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';
import { listObjectsV2Shim } from './local-s3-list-shim';
import { multipartShim } from './local-s3-multipart-shim';

export interface LocalS3ServerOptions {
  /** Folder that holds the buckets and objects (created if absent, kept on close). */
  directory: string;
  /** Interface to bind; 127.0.0.1 by default. The server checks no signatures: keep it local. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface LocalS3Server {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  port: number;
  /** Closes keep-alive connections that are idle right now, as a server's idle timeout would. */
  dropIdleConnections(): void;
  close(): Promise<void>;
}

/** s3rver accepts only its built-in key pair. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

/**
 * s3rver deletes an object's files, then removes its emptied parent folders; concurrent deletes in
 * one folder (a multi-object delete runs them in parallel) race on those folders and fail with
 * ENOENT/ENOTEMPTY after the object is already gone. Those cleanup races are not failures.
 */
function tolerateConcurrentDeletes(server: S3rver): void {
  const deleteObject = server.store.deleteObject.bind(server.store);
  server.store.deleteObject = async (bucket, key) => {
    try {
      await deleteObject(bucket, key);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw e;
    }
  };
}

/**
 * An S3-protocol server over a local folder (s3rver), for development and tests where no MinIO runs.
 * Speaks enough S3 for ObjectStore: buckets, put/get/stat/delete, ranged GET, ListObjectsV2,
 * multi-delete, presigned URLs (expiry enforced, V4 signatures NOT verified) and multipart uploads
 * (listing parts and aborting are added by a small shim; see docs/storage.md for the limits).
 * ListObjectsV2 is served by a shim too: s3rver's own cannot paginate on Node >= 17.
 */
export async function startLocalS3Server(options: LocalS3ServerOptions): Promise<LocalS3Server> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    resetOnClose: false,
  });
  tolerateConcurrentDeletes(server);
  server.middleware.unshift(multipartShim(server), listObjectsV2Shim(server));
  const address: AddressInfo = await server.run();
  // Outlive clients' idle keep-alive sockets so a request on a reused socket is not reset.
  if (server.httpServer) server.httpServer.keepAliveTimeout = 65_000;
  const urlHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  let closed = false;
  return {
    endpoint: `http://${urlHost}:${address.port}`,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    port: address.port,
    dropIdleConnections: () => server.httpServer?.closeIdleConnections(),
    close: async () => {
      if (closed) return;
      closed = true;
      await server.close();
    },
  };
}
