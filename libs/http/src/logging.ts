import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { AppConfig } from '@modelsmith/config';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Accepts a caller's X-Request-Id when it is well-formed, otherwise makes one; echoes it back. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * A request URL with the signatures of presigned object URLs (`signature=`, S3's `X-Amz-Signature=`)
 * replaced: whoever reads the logs must not be able to replay a URL that has not yet expired.
 */
export function redactUrlSecrets(url: string): string {
  return url.replace(/([?&](?:signature|X-Amz-Signature)=)[^&#]*/gi, '$1[Redacted]');
}

/** pino-http's options for the apps' access logs (and their root logger). */
export function accessLogOptions(config: AppConfig, name: string): PinoHttpOptions {
  return {
    name,
    level: config.LOG_LEVEL,
    genReqId: requestId,
    redact: [
      'req.headers.authorization',
      'req.headers.cookie',
      'req.headers["x-api-key"]',
      'req.query.signature',
    ],
    serializers: {
      req: (req: { url?: string }) => {
        if (typeof req.url === 'string') req.url = redactUrlSecrets(req.url);
        return req;
      },
    },
    autoLogging: { ignore: (req) => (req.url ?? '').includes('/health/') },
    customProps: (req) => {
      const principal = (req as IncomingMessage & { principal?: { kind: string; tenantId?: string } })
        .principal;
      return principal?.kind === 'api-key' ? { tenantId: principal.tenantId } : {};
    },
  };
}
