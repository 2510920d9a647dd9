/** Base of every error libs/db throws; `code` is stable and safe to match on. */
export abstract class DbError extends Error {
  abstract readonly code: string;
}

/** An applied migration's migration.sql no longer matches the checksum recorded when it ran. */
export class MigrationChecksumMismatchError extends DbError {
  readonly code = 'MIGRATION_CHECKSUM_MISMATCH';
  constructor(
    readonly migrationName: string,
    readonly recordedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `Migration ${migrationName} was modified after it was applied ` +
        `(recorded checksum ${recordedChecksum}, file checksum ${fileChecksum}). ` +
        'Never edit an applied migration; add a new one.',
    );
    this.name = 'MigrationChecksumMismatchError';
  }
}

/** `_prisma_migrations` records a migration that started but never finished (e.g. a failed `prisma migrate deploy`). */
export class MigrationIncompleteError extends DbError {
  readonly code = 'MIGRATION_INCOMPLETE';
  constructor(readonly migrationName: string) {
    super(
      `Migration ${migrationName} is recorded as started but not finished. Inspect the database, ` +
        `then mark it rolled back (UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${migrationName}') ` +
        'or finished, and run migrations again.',
    );
    this.name = 'MigrationIncompleteError';
  }
}

/** A migration's SQL failed; its transaction was rolled back and nothing of it remains. */
export class MigrationFailedError extends DbError {
  readonly code = 'MIGRATION_FAILED';
  constructor(
    readonly migrationName: string,
    override readonly cause: unknown,
  ) {
    super(
      `Migration ${migrationName} failed and was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'MigrationFailedError';
  }
}

/** The migrations directory is missing or unreadable. */
export class MigrationsDirectoryError extends DbError {
  readonly code = 'MIGRATIONS_DIRECTORY_INVALID';
  constructor(
    readonly directory: string,
    detail: string,
  ) {
    super(`Migrations directory ${directory}: ${detail}`);
    this.name = 'MigrationsDirectoryError';
  }
}

/** withTenant() was called without a usable tenant id. */
export class InvalidTenantIdError extends DbError {
  readonly code = 'INVALID_TENANT_ID';
  constructor() {
    super('withTenant() needs a non-empty tenant id');
    this.name = 'InvalidTenantIdError';
  }
}

/** The system client's role would be subject to row-level security (it must be superuser or BYPASSRLS). */
export class SystemRoleCannotBypassRlsError extends DbError {
  readonly code = 'SYSTEM_ROLE_CANNOT_BYPASS_RLS';
  constructor(readonly role: string) {
    super(
      `The system database role "${role}" is neither superuser nor BYPASSRLS, so row-level security ` +
        'would hide every tenant row from operator paths. Use an owner role with BYPASSRLS for DATABASE_URL.',
    );
    this.name = 'SystemRoleCannotBypassRlsError';
  }
}
