export * from './generated/client';
export * from './app-role';
export * from './client';
export * from './database-url';
export * from './errors';
export * from './migrate';
export { findMigrationsDir, migrationChecksum, readMigrations, type MigrationFile } from './migrations-dir';
export * from './tenant';
