import type { IncomingMessage } from 'node:http';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';

/** An error shaped like body-parser's own (http-errors: `status`, `expose`, `type`), so it maps to a 4xx problem. */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

/**
 * body-parser's `verify` hook for JSON bodies: runs on the raw bytes before they are parsed. Refuses
 * JSON in another charset than UTF-8 (RFC 8259 §8.1; the depth scan reads UTF-8 bytes) and bodies
 * nested deeper than `maxDepth`.
 */
export function verifyJsonBody(maxDepth = MAX_JSON_DEPTH) {
  return (_req: IncomingMessage, _res: unknown, buf: Buffer, encoding: string): void => {
    if (encoding.toLowerCase().replace(/[^a-z0-9]/g, '') !== 'utf8') {
      throw bodyError(415, 'charset.unsupported', `JSON bodies must be UTF-8 (got charset "${encoding}")`);
    }
    if (jsonDepthExceeds(buf, maxDepth)) {
      throw bodyError(
        400,
        'entity.too.deep',
        `JSON bodies may nest objects and arrays at most ${maxDepth} levels deep`,
      );
    }
  };
}
