import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { problemBody } from '../problem.filter';
import { ProblemError } from '../problem';

/** Node's parser errors and the answer each gets (everything else it cannot parse is a 400). */
function parserProblem(code: string | undefined): ProblemError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new ProblemError({ status: 431, code: 'BAD_REQUEST', title: 'Request header fields too large', detail: 'the request line and headers exceed the server limit' });
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ProblemError({ status: 408, code: 'BAD_REQUEST', title: 'Request timeout', detail: 'the request was not received in time' });
  }
  return new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Malformed HTTP request', detail: `the request could not be parsed${code ? ` (${code})` : ''}` });
}

/**
 * Answers requests Node's HTTP parser refuses (control characters in the request line or headers,
 * oversized headers, broken chunked encoding) with a problem+json document and a request id, instead
 * of Node's bare `400 Bad Request`. The connection is closed afterwards: the parser cannot resume.
 */
export function answerClientErrors(server: Server): void {
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
