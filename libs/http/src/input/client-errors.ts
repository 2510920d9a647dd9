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
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const problem = parserProblem(err.code);
    const id = randomUUID();
    const body = problemBody(problem, undefined, id);
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
