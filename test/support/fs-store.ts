import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore } from '@modelsmith/storage';

export interface TestFsStore {
  driver: 'fs';
  /** A filesystem store over a fresh temporary directory, ready. */
  store: FsObjectStore;
  directory: string;
  /** Environment variables for loadConfig / a spawned app process (no S3_ENDPOINT: the fs driver). */
  env: { STORAGE_DIR: string; STORAGE_URL_SECRET: string };
  /** Removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A filesystem object store in a temporary directory. `baseUrl` is where its presigned URLs point
 * (an API serving /v1/objects/...); the secret is random per store.
 */
export async function startTestFsStore(options: { baseUrl?: string } = {}): Promise<TestFsStore> {
  const directory = await mkdtemp(join(tmpdir(), 'modelsmith-objects-'));
  const secret = randomBytes(32).toString('base64url');
  const store = new FsObjectStore({
    directory,
    urls: { secret, baseUrl: options.baseUrl ?? 'http://127.0.0.1:9' },
  });
  await store.ensureReady();
  let stopped = false;
  return {
    driver: 'fs',
    store,
    directory,
    env: { STORAGE_DIR: directory, STORAGE_URL_SECRET: secret },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
