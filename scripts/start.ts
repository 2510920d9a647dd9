/**
 * `npm start`: the whole platform on one machine. Checks Postgres and Redis, applies migrations,
 * stores objects in the filesystem under .data/objects when no S3_ENDPOINT is configured (the API
 * serves their presigned URLs, signed with a key kept in .data/storage-url-secret), creates a
 * development tenant and key on first run, then starts the API, one worker and the serving app and
 * supervises them (a child that dies is restarted with backoff; see scripts/supervisor/).
 * Ctrl-C stops everything gracefully; the children also stop if this launcher dies.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { loadConfig, ConfigError } from '@modelsmith/config';
import {
  applyMigrations,
  createDatabaseIfMissing,
  createSystemPrismaClient,
  ensureAppRole,
  findMigrationsDir,
  redactUrl,
} from '@modelsmith/db';
import { createTenantWithKey } from '../apps/api/src/tenants/create-tenant';
import { platformChildren } from './supervisor/platform-children';
import { stopChildrenWithLauncher } from './supervisor/launcher-exit';
import { Supervisor } from './supervisor/supervisor';

const root = resolve(__dirname, '..', '..');
const dataDir = resolve(process.env.MODELSMITH_DATA_DIR ?? join(root, '.data'));
const say = (msg: string): void => console.log(`[modelsmith] ${msg}`);

function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function requireService(
  name: string,
  url: string,
  defaultPort: number,
  envVar: string,
  howTo: string,
): Promise<void> {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : defaultPort;
  if (await reachable(u.hostname, port)) return;
  console.error(
    `\n[modelsmith] ${name} is not reachable at ${u.hostname}:${port} (${envVar}=${redactUrl(url)}).\n` +
      `  Start it, or point ${envVar} at a running server. ${howTo}\n`,
  );
  process.exit(69);
}

function persisted(file: string, make: () => string): string {
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600 });
  return value;
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const env: Record<string, string | undefined> = { ...process.env };

  // Object store: a configured S3 endpoint, or the filesystem store under .data/objects, whose
  // presigned URLs the API serves and verifies with a key generated once and kept in .data.
  if (!env.S3_ENDPOINT) {
    env.STORAGE_DIR ||= join(dataDir, 'objects');
    env.STORAGE_URL_SECRET ||= persisted('storage-url-secret', () => randomBytes(32).toString('base64url'));
  }
  env.ADMIN_TOKEN ??= persisted('admin-token', () => `adm_${randomBytes(24).toString('base64url')}`);

  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`[modelsmith] ${e.message}`);
      process.exit(78);
    }
    throw e;
  }

  await requireService(
    'PostgreSQL',
    config.DATABASE_URL,
    5432,
    'DATABASE_URL',
    'On Debian: `apt-get install postgresql && pg_ctlcluster 15 main start`.',
  );
  await requireService(
    'Redis',
    config.REDIS_URL,
    6379,
    'REDIS_URL',
    'On Debian: `apt-get install redis-server && redis-server --daemonize yes`.',
  );

  if (await createDatabaseIfMissing(config.DATABASE_URL))
    say(`created database ${redactUrl(config.DATABASE_URL)}`);
  const migrated = await applyMigrations(config.DATABASE_URL, findMigrationsDir(__dirname));
  await ensureAppRole(config.DATABASE_URL, config.DATABASE_APP_PASSWORD);
  say(
    `database ready (${migrated.applied.length} migration(s) applied, ${migrated.skipped.length} already present)`,
  );

  // A development tenant and its first ADMIN key, created once and remembered in .data/dev-key.
  const keyFile = join(dataDir, 'dev-key');
  if (!existsSync(keyFile)) {
    const db = await createSystemPrismaClient(config.DATABASE_URL, { poolSize: 1 });
    try {
      const slug = `dev-${randomBytes(3).toString('hex')}`;
      const created = await createTenantWithKey(db, { name: 'Development', slug }, 'dev-admin');
      writeFileSync(keyFile, `${created.tenant.id} ${created.key}\n`, { mode: 0o600 });
    } finally {
      await db.$disconnect();
    }
  }
  const [tenantId, devKey] = readFileSync(keyFile, 'utf8').trim().split(' ');

  // The API, a worker and the serving app, restarted when one dies (scripts/supervisor/).
  const supervisor = new Supervisor({
    children: platformChildren(config, env, root),
    log: (line) => console.error(line),
  });
  stopChildrenWithLauncher(supervisor, (line) => console.error(line));
  supervisor.start();

  const base = config.PUBLIC_URL ?? `http://${config.API_HOST}:${config.API_PORT}`;
  for (let i = 0; i < 120; i++) {
    try {
      const res = await fetch(`${base}/v1/health/ready`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  say('');
  say(`Modelsmith is running: ${base}`);
  say(`  Web console:            ${base}/console/   (sign in with the key below)`);
  say(`  API docs (Swagger UI):   ${base}/docs`);
  say(
    `  Predictions (serving):   ${config.SERVING_PUBLIC_URL ?? `http://${config.SERVING_HOST}:${config.SERVING_PORT}`}/v1/deployments/<id>/predict`,
  );
  say(
    `  Object store:            ${config.S3_ENDPOINT ? `S3 at ${config.S3_ENDPOINT} (bucket ${config.S3_BUCKET})` : `files in ${config.STORAGE_DIR ?? ''} (presigned URLs served under ${base}/v1/objects/)`}`,
  );
  say(`  Development tenant:      ${tenantId}`);
  say(`  Its ADMIN API key:       ${devKey}`);
  say(
    `  Operator ADMIN_TOKEN:    ${config.ADMIN_TOKEN ?? '(set)'}   (creates tenants: POST /v1/admin/tenants)`,
  );
  say(`  Try: curl -H "Authorization: Bearer ${devKey}" ${base}/v1/jobs`);
  say('Press Ctrl-C to stop.');
}

main().catch((e: unknown) => {
  console.error(`[modelsmith] start failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
