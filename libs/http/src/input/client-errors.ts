import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { requestId } from '../logging';
import { problemBody } from '../problem-response';
import { ProblemError } from '../problem';

/** Node's parser errors and the answer each gets (everything else it cannot parse is a 400). */
function parserProblem(code: string | undefined): ProblemError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new ProblemError({
      status: 431,
      code: 'BAD_REQUEST',
      title: 'Request header fields too large',
      detail: 'the request line and headers exceed the server limit',
    });
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ProblemError({
      status: 408,
      code: 'BAD_REQUEST',
      title: 'Request timeout',
      detail: 'the request was not received in time',
    });
  }
  return new ProblemError({
    status: 400,
    code: 'BAD_REQUEST',
    title: 'Malformed HTTP request',
    detail: `the request could not be parsed${code ? ` (${code})` : ''}`,
  });
}

const unmetExpectation = (expect: string | undefined) =>
  new ProblemError({
    status: 417,
    code: 'BAD_REQUEST',
    title: 'Expectation failed',
    detail: `the only expectation this server meets is "Expect: 100-continue" (got ${JSON.stringify((expect ?? '').slice(0, 100))})`,
  });

/** How long, and how much, a refused request's remaining bytes are read and dropped before closing. */
export const LINGER = { totalMs: 5_000, idleMs: 1_000, bytes: 32 << 20 };

const answered = new WeakSet<Socket>();

/**
 * Reads and drops what the client still sends after its request was refused, until it closes its
 * side or a bound is reached (LINGER). Closing a socket whose unread bytes are still arriving makes
 * the kernel send a reset instead of a close, and a reset can reach the client before it reads the
 * answer: it then sees a failed write (EPIPE) instead of the 4xx (a lingering close, as nginx does).
 */
function drain(socket: Socket): void {
  let bytes = 0;
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > LINGER.bytes) socket.destroy();
  });
  socket.setTimeout(LINGER.idleMs, () => socket.destroy());
  const total = setTimeout(() => socket.destroy(), LINGER.totalMs).unref();
  socket.once('close', () => clearTimeout(total));
  socket.resume();
}

/**
 * Answers requests Node refuses by itself with a problem+json document and a request id, instead of
 * Node's bare answers: what its HTTP parser cannot read (control characters in the request line or
 * headers, oversized headers, broken chunked encoding: a 400 or 431, then the connection is closed,
 * the parser cannot resume), and an `Expect` header other than `100-continue` (a 417 without a body
 * by default).
 */
export function answerClientErrors(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const id = requestId(req, res);
    const body = problemBody(unmetExpectation(req.headers.expect), req.url, id);
    // A client that sent its body anyway must get the answer: the body is read and dropped, not cut off
    // by closing the connection (the body still arriving would turn into a reset that loses the answer).
    req.resume();
    res.writeHead(417, {
      'Content-Type': 'application/problem+json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // The parser fails again on every later piece of a body still arriving: the answer is on its way.
    if (answered.has(socket)) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    const problem = parserProblem(err.code);
    const id = randomUUID();
    const body = problemBody(problem, undefined, id);
    drain(socket);
    socket.end(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${id}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
