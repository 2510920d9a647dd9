import type { z } from 'zod';

/** A JSON column holds what its schema says it cannot: the row was written by something else. */
export class StoredRowInvalidError extends Error {
  readonly code = 'STORED_ROW_INVALID';
  constructor(table: string, column: string, id: string, detail: string) {
    super(`${table}.${column} of ${id} does not have its expected shape: ${detail}`);
    this.name = 'StoredRowInvalidError';
  }
}

/** Parses a nullable JSON column with its schema (null stays null); throws StoredRowInvalidError. */
export function readColumn<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  where: { table: string; column: string; id: string },
): z.output<S> | null {
  if (raw === null || raw === undefined) return null;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new StoredRowInvalidError(
      where.table,
      where.column,
      where.id,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}
