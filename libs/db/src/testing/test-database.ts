import { randomBytes } from 'node:crypto';
import { APP_ROLE, ensureAppRole } from '../app-role';
import { Client } from 'pg';
import { createDatabaseIfMissing, dropDatabase, withCredentials, withDatabase } from '../database-url';
import { applyMigrations } from '../migrate';
import { findMigrationsDir } from '../migrations-dir';

/** Where the repository's migrations live. */
export const MIGRATIONS_DIR = findMigrationsDir(__dirname);

/** Local development/CI server (trust auth). Pass `serverUrl` to use another. */
export const DEFAULT_TEST_SERVER_URL = 'postgresql://root@127.0.0.1:5432/postgres';
export const TEST_APP_PASSWORD = 'modelsmith-app-test-password';

export interface TestDatabase {
  name: string;
  /** Owner URL (superuser here): migrations and the system client. Bypasses RLS. */
  url: string;
  /** URL of the application role `modelsmith_app`: row-level security applies. */
  appUrl: string;
  /** Drops the database (disconnecting its sessions). Safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Any URL on the server to use; its database part is ignored. */
  serverUrl?: string;
  /** Apply the repository's migrations (default true). */
  migrate?: boolean;
  migrationsDir?: string;
  /** Prefix of the random database name (default `ms_test`). */
  prefix?: string;
}

const DEFAULT_PREFIX = 'ms_test';
const STALE_AFTER_MS = 6 * 3600_000;
let staleSweepDone = false;

/** A fresh, randomly named, migrated database; call drop() in afterAll. */
export async function createTestDatabase(opts: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = opts.serverUrl ?? DEFAULT_TEST_SERVER_URL;
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  if (!staleSweepDone) {
    staleSweepDone = true;
    await dropStaleTestDatabases({ serverUrl, prefix }).catch(() => undefined);
  }
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(serverUrl, name);
  await createDatabaseIfMissing(url);
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(url);
  };
  try {
    if (opts.migrate ?? true) {
      await applyMigrations(url, opts.migrationsDir ?? MIGRATIONS_DIR);
      await ensureAppRole(url, TEST_APP_PASSWORD);
    }
  } catch (err) {
    await drop();
    throw err;
  }
  return { name, url, appUrl: withCredentials(url, APP_ROLE, TEST_APP_PASSWORD), drop };
}

/**
 * Drops test databases left behind by crashed runs: names `<prefix>_<base36 ms>_<hex>` created
 * more than `olderThanMs` ago (default 6 h). createTestDatabase() runs it once per process.
 */
export async function dropStaleTestDatabases(
  opts: { serverUrl?: string; prefix?: string; olderThanMs?: number } = {},
): Promise<string[]> {
  const serverUrl = opts.serverUrl ?? DEFAULT_TEST_SERVER_URL;
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const cutoff = Date.now() - (opts.olderThanMs ?? STALE_AFTER_MS);
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  let names: string[];
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [`${prefix}_`],
    );
    names = rows
      .map((r) => r.datname)
      .filter((n) => {
        const m = /^(.+)_([0-9a-z]+)_[0-9a-f]{8}$/.exec(n);
        return m !== null && m[1] === prefix && parseInt(m[2] ?? '', 36) < cutoff;
      });
  } finally {
    await client.end();
  }
  for (const name of names) await dropDatabase(withDatabase(serverUrl, name));
  return names;
}
