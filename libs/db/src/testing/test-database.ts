import { randomBytes } from 'node:crypto';
import { APP_ROLE, ensureAppRole } from '../app-role';
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

/** A fresh, randomly named, migrated database; call drop() in afterAll. */
export async function createTestDatabase(opts: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `${opts.prefix ?? 'ms_test'}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(opts.serverUrl ?? DEFAULT_TEST_SERVER_URL, name);
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
