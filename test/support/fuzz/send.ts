/**
 * Sends a fuzz request over a plain TCP socket, exactly as generated (the path is not normalised,
 * Content-Length may promise more than is sent), and reads the answer even when the server answers
 * early and closes while the body is still being written (an HTTP client library reports only its
 * write error then, EPIPE, and drops the answer that had arrived).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { authorization, type FuzzRequest } from './requests';

export interface Outcome {
  status?: number;
  headers: IncomingHttpHeaders;
  /** The body of an error answer, its first MAX_ERROR_BODY bytes (successes are not read: an event stream never ends). */
  body: Buffer;
  /** The error answer's whole length, read to the end. */
  bodyBytes?: number;
  /** The request failed without an answer (connection refused or reset, timeout). */
  error?: string;
  /** The client dropped the connection on purpose (abandoned upload) before an answer came. */
  abandoned?: boolean;
  ms: number;
}

export const MAX_ERROR_BODY = 1 << 20;

/** The request's head and body as bytes (header values are latin1, as HTTP/1.1 carries them). */
export function requestBytes(
  host: string,
  req: FuzzRequest,
  token: string | undefined,
): { head: Buffer; body?: Buffer } {
  // Keep-alive, as clients send by default: with `Connection: close` Node closes right after an answer
  // it gave before reading the body, and the body still arriving turns into a reset that can discard
  // the answer on the client's side. The client closes the connection once it has the answer.
  const headers: [string, string][] = [['host', host]];
  const set = (k: string, v: string) => {
    const i = headers.findIndex(([n]) => n === k);
    if (i === -1) headers.push([k, v]);
    else headers[i] = [k, v];
  };
  for (const [k, v] of req.body?.headers ?? []) set(k, v);
  for (const [k, v] of req.headers) set(k, v);
  const auth = authorization(req.auth, token);
  if (auth !== undefined) set('authorization', auth);
  if (req.body) set('content-length', String(req.body.bytes.length));
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return { head: Buffer.from(head, 'latin1'), body: req.body?.bytes };
}

interface Head {
  status: number;
  headers: IncomingHttpHeaders;
  bodyStart: number;
}

/** The status line and headers at the start of `data`, past any 1xx interim answers; undefined until complete. */
function parseHead(data: Buffer): Head | undefined {
  let start = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', start);
    if (end === -1) return undefined;
    const [statusLine, ...lines] = data.subarray(start, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const at = line.indexOf(':');
      const name = line.slice(0, at).trim().toLowerCase();
      const value = line.slice(at + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { status: Number.isNaN(status) ? 0 : status, headers, bodyStart: end + 4 };
  }
}

/** The body after the head: Content-Length bytes, chunks until the last one, or everything until close; undefined while incomplete. */
function parseBody(data: Buffer, head: Head, closed: boolean): Buffer | undefined {
  const rest = data.subarray(head.bodyStart);
  if (/chunked/i.test(String(head.headers['transfer-encoding'] ?? ''))) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const line = rest.indexOf('\r\n', at);
      if (line === -1) return closed ? Buffer.concat(chunks) : undefined;
      const size = parseInt(rest.subarray(at, line).toString('latin1'), 16);
      if (!Number.isFinite(size) || size === 0) return Buffer.concat(chunks);
      if (rest.length < line + 2 + size) return closed ? Buffer.concat(chunks) : undefined;
      chunks.push(rest.subarray(line + 2, line + 2 + size));
      at = line + 2 + size + 2;
    }
  }
  const length = Number(head.headers['content-length'] ?? NaN);
  if (Number.isFinite(length)) return rest.length >= length || closed ? rest.subarray(0, length) : undefined;
  return closed ? rest : undefined;
}

export function send(
  baseUrl: string,
  req: FuzzRequest,
  token: string | undefined,
  timeoutMs = 20_000,
): Promise<Outcome> {
  const base = new URL(baseUrl);
  const started = Date.now();
  const { head, body } = requestBytes(base.host, req, token);
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    let abandoned = false;
    let settled = false;
    const socket = connect(Number(base.port), base.hostname);
    const finish = (closed: boolean) => {
      if (settled) return;
      const data = Buffer.concat(received);
      const parsed = parseHead(data);
      if (!parsed) {
        if (!closed) return;
        settled = true;
        resolve({
          headers: {},
          body: Buffer.alloc(0),
          error:
            error ??
            (data.length
              ? `unparseable answer ${JSON.stringify(data.subarray(0, 80).toString('latin1'))}`
              : 'connection closed without an answer'),
          abandoned,
          ms: Date.now() - started,
        });
        return;
      }
      // Successes are not read further (an event stream never ends); errors to the end of their body.
      const answerBody = parsed.status < 400 ? Buffer.alloc(0) : parseBody(data, parsed, closed);
      if (answerBody === undefined) return;
      settled = true;
      socket.destroy();
      resolve({
        status: parsed.status,
        headers: parsed.headers,
        body: answerBody.subarray(0, MAX_ERROR_BODY),
        bodyBytes: answerBody.length,
        ms: Date.now() - started,
      });
    };
    socket.setTimeout(timeoutMs, () => {
      error = `no answer within ${timeoutMs} ms`;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // An answer past this size is judged by its length alone (oracle: a problem that large is a failure).
      if (size <= 4 * MAX_ERROR_BODY) received.push(chunk);
      finish(false);
    });
    // A write error (the server answered early and closed) is not the answer: what it sent is read on close.
    socket.on('error', (e) => (error ??= e.message));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      if (!body) return;
      if (req.body?.abortAfter === undefined) {
        socket.write(body);
        return;
      }
      socket.write(body.subarray(0, req.body.abortAfter));
      // Long enough for the server to start on the body, then the client is gone.
      setTimeout(() => {
        if (settled) return;
        abandoned = true;
        socket.destroy();
      }, 30);
    });
  });
}
