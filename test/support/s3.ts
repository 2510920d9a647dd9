import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { S3ObjectStore, type ObjectStoreConfig } from '@modelsmith/storage';
import { startLocalS3Server, type LocalS3Server } from './local-s3/local-s3-server';

export interface TestS3 {
  driver: 's3';
  /** Connection settings (endpoint, keys, a fresh random bucket). */
  config: ObjectStoreConfig;
  /** Environment variables for loadConfig / a spawned app process. */
  env: {
    S3_ENDPOINT: string;
    S3_REGION: string;
    S3_ACCESS_KEY: string;
    S3_SECRET_KEY: string;
    S3_BUCKET: string;
  };
  /** A store on that bucket, already created. */
  store: S3ObjectStore;
  directory: string;
  server: LocalS3Server;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a real S3-protocol server (s3rver) on a random port over a temporary folder. */
export async function startTestS3(options: { bucket?: string } = {}): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'modelsmith-s3-'));
  const server = await startLocalS3Server({ directory, port: 0 });
  const bucket = options.bucket ?? `test-${randomUUID().slice(0, 8)}`;
  const config: ObjectStoreConfig = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    bucket,
  };
  const store = new S3ObjectStore(config);
  await store.ensureReady();
  let stopped = false;
  return {
    driver: 's3',
    config,
    env: {
      S3_ENDPOINT: config.endpoint,
      S3_REGION: config.region,
      S3_ACCESS_KEY: config.accessKey,
      S3_SECRET_KEY: config.secretKey,
      S3_BUCKET: bucket,
    },
    store,
    directory,
    server,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
