import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { assertTargetAllowed, guardedLookup, WebhookTargetError, type TargetPolicy } from './target-policy';

/** Most response bytes read from a receiver; the rest is dropped (the answer's body is not kept). */
export const WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;

export interface SendResult {
  /** The receiver's HTTP status; null when no answer came. */
  statusCode: number | null;
  latencyMs: number;
  /** Why the attempt failed (null on 2xx). */
  error: string | null;
  /** The target is refused by the policy: retrying cannot help. */
  refused: boolean;
}

export interface SendOptions {
  policy: TargetPolicy;
  timeoutMs: number;
}

/**
 * POSTs one signed delivery. The target is checked (every address of its name) before the request and
 * again by the socket's own lookup, redirects are never followed (a 3xx is a failed attempt), the whole
 * attempt is bounded by `timeoutMs`, and at most WEBHOOK_MAX_RESPONSE_BYTES of the answer are read.
 */
export async function sendWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(rawUrl);
    await assertTargetAllowed(url, opts.policy);
  } catch (e) {
    const msg = e instanceof WebhookTargetError ? e.message : `bad url: ${(e as Error).message}`;
    return { statusCode: null, latencyMs: elapsed(), error: msg, refused: true };
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((done) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs' | 'refused'> & { refused?: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ refused: false, ...r, latencyMs: elapsed() });
    };
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(opts.policy),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Modelsmith-Webhooks/1',
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > WEBHOOK_MAX_RESPONSE_BYTES) {
            res.destroy();
            finish(outcome(status, res.headers));
          }
        });
        res.on('end', () => finish(outcome(status, res.headers)));
        res.on('error', () => finish(outcome(status, res.headers)));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ statusCode: null, error: `no answer within ${opts.timeoutMs} ms` });
    }, opts.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const refused = e instanceof WebhookTargetError || e.code === 'EFORBIDDEN';
      finish({
        statusCode: null,
        error: refused ? e.message : `${e.code ?? 'error'}: ${e.message}`,
        refused,
      });
    });
    req.end(body);
  });
}

function outcome(status: number, headers: IncomingHttpHeaders): Omit<SendResult, 'latencyMs' | 'refused'> {
  if (status >= 200 && status < 300) return { statusCode: status, error: null };
  if (status >= 300 && status < 400)
    return {
      statusCode: status,
      error: `redirects are not followed (Location: ${String(headers.location ?? '').slice(0, 200)})`,
    };
  return { statusCode: status, error: `the receiver answered ${status}` };
}
