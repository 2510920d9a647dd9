import type { ProblemError } from './problem';

/** Network errors of Node's sockets: the peer refused, reset, timed out or could not be resolved. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** Prisma's codes for a database it cannot reach, that timed out, closed the connection, or a full pool. */
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** node-postgres (under Prisma's pg adapter) reports a lost or unobtainable connection by message only. */
const PG_CONNECTION_LOST = /^(Connection terminated|timeout exceeded when trying to connect)/;

/**
 * Whether an error means that Postgres, Redis or the object store could not be reached (an outage,
 * a restart, a full connection pool), looking through up to three `cause`s. Such a request is worth
 * retrying shortly, so it is answered 503 with Retry-After rather than 500.
 */
export function isDependencyUnavailable(e: unknown): boolean {
  for (let depth = 0; depth < 4 && e instanceof Error; depth++, e = e.cause) {
    const { name, message } = e;
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || (name === 'PrismaClientKnownRequestError' && PRISMA_UNREACHABLE.has(code)))
    )
      return true;
    if (name === 'PrismaClientInitializationError' || name === 'MaxRetriesPerRequestError') return true;
    if (PG_CONNECTION_LOST.test(message) || message === 'Connection is closed.') return true;
  }
  return false;
}

/** Seconds a client is told to wait before retrying a request that met an unreachable dependency. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

/** A detail longer than this is cut: details quote what the client sent, and must not echo it back whole. */
export const MAX_DETAIL_CHARS = 10_000;

/** The RFC 9457 body of a problem: stable `type` and `code`, the path it answers, the request id. */
export function problemBody(
  problem: ProblemError,
  instance: string | undefined,
  requestId: string | undefined,
): string {
  const detail =
    problem.detail && problem.detail.length > MAX_DETAIL_CHARS
      ? `${problem.detail.slice(0, MAX_DETAIL_CHARS)}… (cut)`
      : problem.detail;
  return JSON.stringify({
    type: `https://modelsmith.dev/problems/${problem.code.toLowerCase().replace(/_/g, '-')}`,
    title: problem.title,
    status: problem.status,
    ...(detail ? { detail } : {}),
    instance,
    code: problem.code,
    requestId,
    ...problem.extensions,
  });
}
