/**
 * Boots the real API, worker and serving app as child processes (from dist/, built by `npm test` before the tests)
 * against a fresh database, a random BullMQ prefix and an object store: the S3 driver against a local
 * S3-protocol test server (default), or with `storage: 'fs'` the filesystem driver over a temporary
 * directory, its presigned URLs served by the API (the default of `npm start`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSystemPrismaClient, type PrismaClient } from '@modelsmith/db';
import { createTestDatabase, TEST_APP_PASSWORD, type TestDatabase } from '@modelsmith/db/testing';
import { startTestFsStore, type TestFsStore } from './fs-store';
import { startTestS3, type TestS3 } from './s3';
import { assertDocumentedAnswer } from './response-contract';

/** The platform's object store as the tests reach it: `store` is a client of the same bucket or directory. */
export type TestStorage = TestS3 | TestFsStore;

const root = resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

export interface ManagedProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(script: string, env: Record<string, string>): ManagedProcess {
  // PLATFORM_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the platform's processes (benchmarks).
  const nodeArgs = process.env.PLATFORM_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist', script)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // PLATFORM_OUTPUT_DIR=/tmp/out also appends each process's output to <dir>/<app>-<pid>.log (benchmarks).
  const dir = process.env.PLATFORM_OUTPUT_DIR;
  const file = dir ? join(dir, `${script.split('/')[1]}-${child.pid}.log`) : undefined;
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-200_000);
    if (file) appendFileSync(file, b);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => out, exited };
}

/** Thrown from a waitFor probe to stop waiting at once. */
export class ExitedError extends Error {}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof ExitedError) throw e;
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

export interface Platform {
  apiUrl: string;
  servingUrl: string;
  serving: ManagedProcess;
  workerUrl: string;
  adminToken: string;
  env: Record<string, string>;
  db: TestDatabase;
  system: PrismaClient;
  /** The object store (named s3 from when it always was; `s3.driver` tells which). */
  s3: TestStorage;
  api: ManagedProcess;
  workers: ManagedProcess[];
  startWorker(extraEnv?: Record<string, string>): Promise<ManagedProcess>;
  /** Another serving process with its own settings (e.g. tiny limits), stopped with the platform. */
  startServing(extraEnv?: Record<string, string>): Promise<{ url: string; process: ManagedProcess }>;
  stop(): Promise<void>;
}

async function stopProcess(p: ManagedProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

/**
 * Starts API, serving and one worker on free ports against a fresh database and object store. A
 * port found free can be taken before the process binds it (another process's listener or outgoing
 * connection on a machine running tests side by side: CI once saw EADDRINUSE), so a boot that fails
 * that way is retried on new ports, twice at most; any other failure is thrown at once.
 */
export async function startPlatform(
  extraEnv: Record<string, string> = {},
  opts: { databasePort?: number; storage?: 's3' | 'fs' } = {},
): Promise<Platform> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPlatformOnce(extraEnv, opts);
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(e))) throw e;
    }
  }
}

async function startPlatformOnce(
  extraEnv: Record<string, string>,
  opts: { databasePort?: number; storage?: 's3' | 'fs' },
): Promise<Platform> {
  const db = await createTestDatabase();
  const adminToken = `adm_${randomBytes(24).toString('hex')}`;
  const apiPort = await freePort();
  const servingPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const s3: TestStorage =
    opts.storage === 'fs' ? await startTestFsStore({ baseUrl: apiUrl }) : await startTestS3();
  const storageEnv: Record<string, string> =
    s3.driver === 'fs'
      ? { ...s3.env, PUBLIC_URL: apiUrl }
      : {
          S3_ENDPOINT: s3.config.endpoint,
          S3_ACCESS_KEY: s3.config.accessKey,
          S3_SECRET_KEY: s3.config.secretKey,
          S3_BUCKET: s3.config.bucket,
        };
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: opts.databasePort ? db.url.replace(/:5432\//, `:${opts.databasePort}/`) : db.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `mst_${randomBytes(6).toString('hex')}`,
    ...storageEnv,
    ADMIN_TOKEN: adminToken,
    API_PORT: String(apiPort),
    SERVING_PORT: String(servingPort),
    ML_BACKEND: 'wasm',
    // The specs assert their searches' trial sequences and CI's time is short: under jest no
    // default-recipe trial and no continuation trials unless a spec asks (search-runner.spec covers
    // both); benches get the product's.
    ...(process.env.JEST_WORKER_ID !== undefined
      ? { SEARCH_DEFAULT_TRIAL: 'off', SEARCH_CONTINUATION: 'off' }
      : {}),
    ...extraEnv,
  };
  const system = await createSystemPrismaClient(db.url, { poolSize: 2 });
  const api = launch('apps/api/src/main.js', env);
  const servingUrl = `http://127.0.0.1:${servingPort}`;
  const serving = launch('apps/serving/src/main.js', env);
  const workers: ManagedProcess[] = [];
  let firstWorkerUrl = '';

  const startWorker = async (more: Record<string, string> = {}): Promise<ManagedProcess> => {
    const port = await freePort();
    const w = launch('apps/worker/src/main.js', { ...env, WORKER_HEALTH_PORT: String(port), ...more });
    workers.push(w);
    const url = `http://127.0.0.1:${port}`;
    firstWorkerUrl ||= url;
    await waitFor('worker health', async () => {
      if (w.child.exitCode !== null) throw new ExitedError(`worker exited with code ${w.child.exitCode}`);
      return (await fetch(`${url}/health`)).ok;
    });
    return w;
  };

  const extraServing: ManagedProcess[] = [];
  const startServing = async (more: Record<string, string> = {}) => {
    const port = await freePort();
    const proc = launch('apps/serving/src/main.js', { ...env, SERVING_PORT: String(port), ...more });
    extraServing.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitFor('serving readiness', async () => {
      if (proc.child.exitCode !== null)
        throw new ExitedError(`serving exited with code ${proc.child.exitCode}: ${proc.output()}`);
      return (await fetch(`${url}/v1/health/ready`)).ok;
    });
    return { url, process: proc };
  };

  const stop = async () => {
    await Promise.all([
      stopProcess(api),
      stopProcess(serving),
      ...extraServing.map(stopProcess),
      ...workers.map(stopProcess),
    ]);
    await system.$disconnect();
    await s3.stop();
    await db.drop();
  };

  try {
    // The three processes boot side by side (each spends most of its start loading modules); a
    // failure of one is reported once all three have settled, so none is left starting.
    const boots = await Promise.allSettled([
      waitFor('api readiness', async () => {
        if (api.child.exitCode !== null) throw new ExitedError(`api exited with code ${api.child.exitCode}`);
        return (await fetch(`${apiUrl}/v1/health/ready`)).ok;
      }),
      waitFor('serving readiness', async () => {
        if (serving.child.exitCode !== null)
          throw new ExitedError(`serving exited with code ${serving.child.exitCode}`);
        return (await fetch(`${servingUrl}/v1/health/ready`)).ok;
      }),
      startWorker(),
    ]);
    const failed = boots.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) {
    const logs = `--- api ---\n${api.output()}\n--- serving ---\n${serving.output()}\n--- workers ---\n${workers.map((w) => w.output()).join('\n')}`;
    await stop();
    throw new Error(`${String(e)}\n${logs}`);
  }
  return {
    apiUrl,
    servingUrl,
    serving,
    workerUrl: firstWorkerUrl,
    adminToken,
    env,
    db,
    system,
    s3,
    api,
    workers,
    startWorker,
    startServing,
    stop,
  };
}

/**
 * fetch against the API with an optional bearer token; returns status, headers and parsed body. A 2xx
 * JSON answer must match the OpenAPI document (test/support/response-contract.ts).
 */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field in tests
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  if (res.headers.get('content-type')?.startsWith('application/json'))
    assertDocumentedAnswer(method, path, res.status, body);
  return { status: res.status, headers: res.headers, body };
}

/** A new tenant made with the operator token (201 asserted): its id and its ADMIN API key. */
export async function createTenant(p: Platform, name: string): Promise<{ id: string; key: string }> {
  const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', { token: p.adminToken, body: { name } });
  if (t.status !== 201)
    throw new Error(`creating tenant ${name}: HTTP ${t.status} ${JSON.stringify(t.body)}`);
  return { id: t.body.tenant.id as string, key: t.body.apiKey.key as string };
}
