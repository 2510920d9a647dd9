import type { IncomingMessage } from 'node:http';
import { ProblemError } from './problem';

/** The credential of a request: `Authorization: Bearer <token>` or, failing that, `X-API-Key: <token>`. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : null;
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : null;
}

export const unauthenticated = (detail: string): ProblemError =>
  new ProblemError({
    status: 401,
    code: 'UNAUTHENTICATED',
    title: 'Authentication required',
    detail,
    headers: { 'WWW-Authenticate': 'Bearer realm="modelsmith"' },
  });
