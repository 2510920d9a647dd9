import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Header names of a delivery (lower case, as Node presents received headers). */
export const WEBHOOK_HEADERS = {
  /** The event's id: the same on every retry, so receivers can drop duplicates. */
  id: 'modelsmith-webhook-id',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'modelsmith-webhook-timestamp',
  /** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the endpoint's secret>`. */
  signature: 'modelsmith-webhook-signature',
  /** The delivery (one event to one endpoint). */
  delivery: 'modelsmith-webhook-delivery',
  /** The event's type, e.g. job.succeeded. */
  event: 'modelsmith-webhook-event',
} as const;

/** Receivers should refuse a timestamp further than this from their clock (replays). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** A new endpoint secret: `whsec_` and 32 random bytes (base64url). The HMAC key is the whole string. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** Hex HMAC-SHA256 of `${timestamp}.${body}` keyed with the secret's UTF-8 bytes. */
export function webhookSignature(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export type WebhookVerifyFailure =
  'MISSING_HEADERS' | 'BAD_TIMESTAMP' | 'TIMESTAMP_OUT_OF_WINDOW' | 'BAD_SIGNATURE';

/**
 * The verification recipe of docs/webhooks.md, as a function receivers (and the tests) can use:
 * recompute the HMAC over the raw body, compare in constant time, refuse stale timestamps.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string | Buffer,
  opts: { toleranceSeconds?: number; now?: number } = {},
): { ok: true } | { ok: false; reason: WebhookVerifyFailure } {
  const one = (h: string) => {
    const v = headers[h];
    return Array.isArray(v) ? v[0] : v;
  };
  const ts = one(WEBHOOK_HEADERS.timestamp);
  const sig = one(WEBHOOK_HEADERS.signature);
  if (!ts || !sig) return { ok: false, reason: 'MISSING_HEADERS' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'BAD_TIMESTAMP' };
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(ts)) > (opts.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS))
    return { ok: false, reason: 'TIMESTAMP_OUT_OF_WINDOW' };
  const expected = Buffer.from(webhookSignature(secret, Number(ts), rawBody), 'hex');
  // Several `v1=` values may be present (comma-separated); one match is enough.
  const ok = sig.split(',').some((part) => {
    const m = /^\s*v1=([0-9a-f]{64})\s*$/.exec(part);
    return m !== null && timingSafeEqual(Buffer.from(m[1], 'hex'), expected);
  });
  return ok ? { ok: true } : { ok: false, reason: 'BAD_SIGNATURE' };
}
