/**
 * Sends a fuzz request with node:http on a fresh connection (no keep-alive state between requests),
 * exactly as generated: the path is not normalised, Content-Length may promise more than is sent.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
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

export function send(baseUrl: string, req: FuzzRequest, token: string | undefined, timeoutMs = 20_000): Promise<Outcome> {
  const base = new URL(baseUrl);
  const started = Date.now();
  const headers: Record<string, string> = { connection: 'close' };
  for (const [k, v] of req.body?.headers ?? []) headers[k] = v;
  for (const [k, v] of req.headers) headers[k] = v;
  const auth = authorization(req.auth, token);
  if (auth !== undefined) headers.authorization = auth;
  if (req.body) headers['content-length'] = String(req.body.bytes.length);
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Omit<Outcome, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...o, ms: Date.now() - started });
    };
    let r: ReturnType<typeof request>;
    try {
      r = request({ host: base.hostname, port: base.port, method: req.method, path: req.target, headers, agent: false });
    } catch (e) {
      // Node refused to send it (a generator bug, not a server failure): say so plainly.
      done({ headers: {}, body: Buffer.alloc(0), error: `client refused to send: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', (e) => done({ headers: {}, body: Buffer.alloc(0), error: e.message, abandoned: req.body?.abortAfter !== undefined }));
    r.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status < 400) {
        res.destroy();
        r.destroy();
        done({ status, headers: res.headers, body: Buffer.alloc(0) });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ERROR_BODY) chunks.push(c);
      });
      const answered = () => done({ status, headers: res.headers, body: Buffer.concat(chunks), bodyBytes: size });
      res.on('error', answered);
      res.on('end', answered);
      res.on('close', answered);
    });
    const body = req.body;
    if (!body) {
      r.end();
    } else if (body.abortAfter === undefined) {
      r.end(body.bytes);
    } else {
      r.write(body.bytes.subarray(0, body.abortAfter));
      // Long enough for the server to start on the body, then the client is gone.
      setTimeout(() => {
        if (!settled) {
          r.destroy();
          done({ headers: {}, body: Buffer.alloc(0), abandoned: true });
        }
      }, 30);
    }
  });
}
