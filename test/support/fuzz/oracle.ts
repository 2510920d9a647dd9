import type { Outcome } from './send';

/** A problem document names what is wrong in a few lines; one this large echoes the hostile input back. */
export const MAX_PROBLEM_BYTES = 64 * 1024;

/**
 * What is wrong with an answer, or undefined when nothing is: no 5xx (nothing is down during the
 * fuzz, so not even a 503), every error an application/problem+json document with a `code` and a
 * `requestId` and at most MAX_PROBLEM_BYTES long, and every request answered (no reset, no timeout)
 * unless the client itself left.
 */
export function judge(o: Outcome): string | undefined {
  if (o.status === undefined) return o.abandoned ? undefined : `no answer: ${o.error ?? 'connection closed'}`;
  if (o.status >= 500) return `answered ${o.status}${problemCode(o)}`;
  if (o.status < 400) return undefined;
  const type = String(o.headers['content-type'] ?? '');
  if (!/^application\/problem\+json\b/i.test(type))
    return `answered ${o.status} as ${JSON.stringify(type || 'no content-type')}, not application/problem+json`;
  const bytes = o.bodyBytes ?? o.body.length;
  if (bytes > MAX_PROBLEM_BYTES)
    return `answered ${o.status} with a problem of ${bytes} bytes (over ${MAX_PROBLEM_BYTES}: the input echoed back)`;
  let body: unknown;
  try {
    body = JSON.parse(o.body.toString('utf8'));
  } catch {
    return `answered ${o.status} with a problem+json body that is not JSON`;
  }
  const { code, requestId } = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    requestId?: unknown;
  };
  if (typeof code !== 'string' || !code) return `answered ${o.status} with a problem without a code`;
  if (typeof requestId !== 'string' || !requestId)
    return `answered ${o.status} (${code}) with a problem without a requestId`;
  return undefined;
}

function problemCode(o: Outcome): string {
  try {
    const b = JSON.parse(o.body.toString('utf8')) as { code?: unknown; detail?: unknown };
    return ` ${String(b.code)}${typeof b.detail === 'string' ? `: ${b.detail.slice(0, 200)}` : ''}`;
  } catch {
    return o.body.length ? ` ${JSON.stringify(o.body.toString('utf8').slice(0, 200))}` : '';
  }
}
