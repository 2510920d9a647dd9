import { cp, mkdtemp, rm, writeFile, appendFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { MigrationChecksumMismatchError, MigrationFailedError, MigrationIncompleteError } from './errors';
import { applyMigrations } from './migrate';
import { migrationChecksum, readMigrations } from './migrations-dir';
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from './testing';

// Creating and migrating a database takes a few seconds on a loaded 2-core machine.
jest.setTimeout(30_000);

async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('applyMigrations', () => {
  let db: TestDatabase;
  let dir: string;

  beforeEach(async () => {
    db = await createTestDatabase({ migrate: false });
    dir = await mkdtemp(join(tmpdir(), 'ms-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterEach(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies every migration once and records it the way Prisma does', async () => {
    const migrations = await readMigrations(dir);
    const first = await applyMigrations(db.url, dir);
    expect(first).toEqual({ applied: migrations.map((m) => m.name), skipped: [] });

    const rows = await query<{
      id: string;
      checksum: string;
      migration_name: string;
      finished_at: Date | null;
      logs: null;
      rolled_back_at: null;
      applied_steps_count: number;
    }>(db.url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows).toEqual(
      migrations.map((m) =>
        expect.objectContaining({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          migration_name: m.name,
          checksum: m.checksum,
          finished_at: expect.any(Date),
          logs: null,
          rolled_back_at: null,
          applied_steps_count: 1,
        }),
      ),
    );

    const again = await applyMigrations(db.url, dir);
    expect(again).toEqual({ applied: [], skipped: migrations.map((m) => m.name) });
    expect(await query(db.url, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(migrations.length);
  });

  it("creates _prisma_migrations with exactly Prisma's columns", async () => {
    await applyMigrations(db.url, dir);
    const cols = await query<{ column_name: string; data_type: string; is_nullable: string }>(
      db.url,
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ['id', 'character varying', 'NO'],
      ['checksum', 'character varying', 'NO'],
      ['finished_at', 'timestamp with time zone', 'YES'],
      ['migration_name', 'character varying', 'NO'],
      ['logs', 'text', 'YES'],
      ['rolled_back_at', 'timestamp with time zone', 'YES'],
      ['started_at', 'timestamp with time zone', 'NO'],
      ['applied_steps_count', 'integer', 'NO'],
    ]);
  });

  it('refuses to run when an applied migration was edited, before changing anything', async () => {
    await applyMigrations(db.url, dir);
    const [first] = await readMigrations(dir);
    await appendFile(join(dir, first.name, 'migration.sql'), '\n-- sneaky edit\n');
    await mkdir(join(dir, '29990101000000_later'));
    await writeFile(join(dir, '29990101000000_later', 'migration.sql'), 'CREATE TABLE "later" (id int);');

    const err = await applyMigrations(db.url, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationChecksumMismatchError);
    expect(err).toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH', migrationName: first.name });
    expect(await query(db.url, "SELECT 1 FROM pg_tables WHERE tablename = 'later'")).toEqual([]);
  });

  it('rolls a failing migration back completely and records nothing for it', async () => {
    await mkdir(join(dir, '29990101000000_broken'));
    await writeFile(
      join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half" (id int);\nSELECT no_such_function();',
    );
    const err = await applyMigrations(db.url, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err).toMatchObject({ code: 'MIGRATION_FAILED', migrationName: '29990101000000_broken' });
    expect(await query(db.url, "SELECT 1 FROM pg_tables WHERE tablename = 'half'")).toEqual([]);
    const names = await query<{ migration_name: string }>(
      db.url,
      'SELECT migration_name FROM _prisma_migrations',
    );
    expect(names.map((r) => r.migration_name)).not.toContain('29990101000000_broken');
  });

  it('refuses to run over a migration Prisma recorded as started but unfinished', async () => {
    await applyMigrations(db.url, dir);
    await query(
      db.url,
      `INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ($1, $2, 'x_failed')`,
      ['00000000-0000-4000-8000-000000000000', migrationChecksum('x')],
    );
    await expect(applyMigrations(db.url, dir)).rejects.toBeInstanceOf(MigrationIncompleteError);
  });

  it('serializes concurrent runners: each migration is applied exactly once', async () => {
    const results = await Promise.all([
      applyMigrations(db.url, dir),
      applyMigrations(db.url, dir),
      applyMigrations(db.url, dir),
    ]);
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual((await readMigrations(dir)).map((m) => m.name));
    expect(await query(db.url, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(applied.length);
  });
});
