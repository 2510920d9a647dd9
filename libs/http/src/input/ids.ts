const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a client-sent id can name a row: every id the platform issues is a UUID (Postgres'
 * gen_random_uuid() or node's randomUUID()). Anything else names nothing, so it is answered 404
 * without a query (and never reaches a cache key or a log line unbounded).
 */
export function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID.test(value);
}
