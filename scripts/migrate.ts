/**
 * Applies prisma/migrations to DATABASE_URL (creating the database if missing) without the Prisma
 * schema engine, then lets the application role log in with DATABASE_APP_PASSWORD.
 *
 *   DATABASE_URL=postgresql://root@127.0.0.1:5432/modelsmith node dist/scripts/migrate.js
 *   MIGRATIONS_DIR overrides where migrations are read from.
 */
import {
  applyMigrations,
  createDatabaseIfMissing,
  DbError,
  ensureAppRole,
  findMigrationsDir,
  redactUrl,
} from '@modelsmith/db';

const DEFAULT_DATABASE_URL = 'postgresql://root@127.0.0.1:5432/modelsmith';
const DEFAULT_APP_PASSWORD = 'modelsmith-app-dev-password';

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const appPassword = process.env.DATABASE_APP_PASSWORD || DEFAULT_APP_PASSWORD;
  const migrationsDir = process.env.MIGRATIONS_DIR || findMigrationsDir(__dirname);
  const log = (message: string): void => console.log(`[migrate] ${message}`);

  if (await createDatabaseIfMissing(databaseUrl)) log(`created database ${redactUrl(databaseUrl)}`);
  const result = await applyMigrations(databaseUrl, migrationsDir, log);
  await ensureAppRole(databaseUrl, appPassword);
  log(`${result.applied.length} applied, ${result.skipped.length} already applied; application role ready`);
}

main().catch((err: unknown) => {
  const code = err instanceof DbError ? ` [${err.code}]` : '';
  console.error(`[migrate] failed${code}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
