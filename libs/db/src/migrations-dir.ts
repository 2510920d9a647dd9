import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MigrationsDirectoryError } from './errors';

export interface MigrationFile {
  /** Directory name, e.g. `20261128120000_init`; Prisma's `migration_name`. */
  name: string;
  sql: string;
  /** sha256 hex of migration.sql's bytes, as Prisma records it. */
  checksum: string;
}

export function migrationChecksum(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Reads Prisma's `<dir>/<timestamp>_<name>/migration.sql` layout, in the order Prisma applies it. */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await readdir(migrationsDir);
  } catch (err) {
    throw new MigrationsDirectoryError(migrationsDir, err instanceof Error ? err.message : String(err));
  }
  const migrations: MigrationFile[] = [];
  for (const name of entries.sort()) {
    const dir = join(migrationsDir, name);
    if (!(await stat(dir)).isDirectory()) continue;
    let content: Buffer;
    try {
      content = await readFile(join(dir, 'migration.sql'));
    } catch {
      throw new MigrationsDirectoryError(migrationsDir, `${name} has no migration.sql`);
    }
    migrations.push({ name, sql: content.toString('utf8'), checksum: migrationChecksum(content) });
  }
  return migrations;
}

/** The nearest `prisma/migrations` directory at or above `startDir` (source tree or dist/ build). */
export function findMigrationsDir(startDir: string): string {
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir)
      throw new MigrationsDirectoryError(join(startDir, 'prisma', 'migrations'), 'not found here or above');
  }
}
