import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MigrationChecksumMismatchError, MigrationFailedError, MigrationIncompleteError } from './errors';
import { readMigrations } from './migrations-dir';

/** Same key `prisma migrate` locks, so this runner and the Prisma CLI never run concurrently. */
export const MIGRATION_ADVISORY_LOCK_KEY = 72707369;

/** Prisma's bookkeeping table, column for column. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations that were already applied. */
  skipped: string[];
}

export type MigrationLog = (message: string) => void;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies the pending migrations of a Prisma `migrations/` directory without the Prisma schema
 * engine, with Prisma's `_prisma_migrations` bookkeeping. Each migration runs in its own
 * transaction (so a failure leaves nothing behind); an advisory lock serializes concurrent
 * runners; an applied migration whose file changed stops everything before any change is made.
 */
export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string,
  log: MigrationLog = () => undefined,
): Promise<MigrationResult> {
  const migrations = await readMigrations(migrationsDir);
  const client = new Client({ connectionString: databaseUrl, application_name: 'modelsmith-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_ADVISORY_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at',
      );
      const applied = new Map<string, AppliedRow>();
      for (const row of rows) {
        if (row.finished_at === null) throw new MigrationIncompleteError(row.migration_name);
        applied.set(row.migration_name, row);
      }
      const onDisk = new Set(migrations.map((m) => m.name));
      for (const name of applied.keys()) {
        if (!onDisk.has(name)) log(`warning: migration ${name} is applied but missing from ${migrationsDir}`);
      }
      for (const m of migrations) {
        const row = applied.get(m.name);
        if (row && row.checksum !== m.checksum)
          throw new MigrationChecksumMismatchError(m.name, row.checksum, m.checksum);
      }

      const result: MigrationResult = { applied: [], skipped: [] };
      for (const m of migrations) {
        if (applied.has(m.name)) {
          result.skipped.push(m.name);
          continue;
        }
        const started = Date.now();
        await client.query('BEGIN');
        try {
          const id = randomUUID();
          await client.query(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
            [id, m.checksum, m.name],
          );
          await client.query(m.sql);
          await client.query(
            'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE id = $1',
            [id],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new MigrationFailedError(m.name, err);
        }
        result.applied.push(m.name);
        log(`applied migration ${m.name} in ${Date.now() - started} ms`);
      }
      if (result.applied.length === 0) log('database is up to date');
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_ADVISORY_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
