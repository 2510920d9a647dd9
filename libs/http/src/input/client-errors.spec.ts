import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { answerClientErrors, LINGER } from './client-errors';

/** Sends raw bytes and returns everything the server writes back until it closes the connection. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
      // Closing once the answer is complete (a kept-alive connection does not end by itself).
      const [head, rest] = out.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(head ?? '')?.[1];
      if (rest !== undefined && length !== undefined && Buffer.byteLength(rest, 'latin1') >= Number(length))
        socket.destroy();
    });
    socket.on('close', () => resolve(out));
    // A write error (the server closed early) is not the answer: what arrived is resolved on close.
    socket.on('error', () => undefined);
  });
}

function parse(answer: string): {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
} {
  const [head, body] = answer.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: JSON.parse(body) as Record<string, unknown>,
  };
}

describe('answerClientErrors', () => {
  let server: Server;
  let port: number;
  let handled = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      handled++;
      res.end('ok');
    });
    answerClientErrors(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('answers an Expect other than 100-continue with a 417 problem+json and a request id, without running the handler (Node: a bare 417)', async () => {
    const before = handled;
    const answer = parse(
      await raw(port, 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nExpect: ab\r\nContent-Length: 2\r\n\r\n{}'),
    );
    expect(answer.status).toBe(417);
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(answer.body).toMatchObject({
      status: 417,
      code: 'BAD_REQUEST',
      title: 'Expectation failed',
      instance: '/v1/jobs',
    });
    expect(answer.body.detail).toContain('"ab"');
    expect(answer.body.requestId).toEqual(answer.headers['x-request-id']);
    expect(answer.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(handled).toBe(before);
  });

  it('reads and drops a body sent anyway instead of closing on it (a body still arriving at a closed socket becomes a reset that can lose the answer): the connection serves the next request', async () => {
    const big = Buffer.alloc(4 << 20, 0x61);
    const answers = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nExpect: ab\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`,
        );
        socket.write(big, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      });
      let out = '';
      socket.on('data', (d) => (out += d.toString('latin1')));
      socket.on('close', () => resolve(out));
      socket.on('error', () => undefined);
    });
    expect(answers).toMatch(/^HTTP\/1\.1 417 [^]*"code":"BAD_REQUEST"[^]*HTTP\/1\.1 200 OK[^]*ok$/);
  });

  it('keeps a well-formed X-Request-Id of the caller, as every other answer does', async () => {
    const answer = parse(
      await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\nX-Request-Id: trace-42\r\n\r\n'),
    );
    expect(answer.body.requestId).toBe('trace-42');
  });

  it('still serves Expect: 100-continue as usual', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { port, method: 'POST', path: '/', headers: { expect: '100-continue', 'content-length': 2 } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on('continue', () => req.end('{}'));
      req.on('error', reject);
    });
    expect(body).toBe('200 ok');
  });

  /** Sends an oversized request line and then `body` in pieces; what the client saw and the server read. */
  function oversized(body: Buffer, opts: { endAfterBody: boolean }) {
    const head =
      `POST /${'p'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nRange: ${'b'.repeat(4_000)}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`;
    return new Promise<{ answer: string; clientError?: string; serverRead: number; sent: number }>(
      (resolve) => {
        let clientError: string | undefined;
        let out = '';
        let serverRead = -1;
        let clientClosed = false;
        const done = () => {
          if (clientClosed && serverRead >= 0)
            resolve({ answer: out, clientError, serverRead, sent: head.length + body.length });
        };
        server.once('connection', (s: Socket) =>
          s.on('close', () => {
            serverRead = s.bytesRead;
            // A client that never ends its side learns of the close by its next read or write.
            if (!opts.endAfterBody) socket.destroy();
            done();
          }),
        );
        // allowHalfOpen: like an HTTP client mid-upload, it goes on sending after the server's FIN.
        const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
          socket.write(head);
          // The body in pieces, each arriving after the parser failed on the request line.
          let at = 0;
          const next = (err?: Error | null) => {
            if (err) clientError = err.message;
            if (err || at >= body.length) return opts.endAfterBody ? socket.end() : undefined;
            socket.write(body.subarray(at, (at += 16 << 10)), next);
          };
          next();
        });
        socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
        socket.on('error', (err) => (clientError ??= err.message));
        socket.on('close', () => {
          clientClosed = true;
          done();
        });
      },
    );
  }

  it('answers an oversized request line whose body is still arriving with a 431, and reads that body to its end before closing (closing on unread bytes sends a reset, which can reach the client before the answer: the fuzz run saw "write EPIPE" and no answer)', async () => {
    const { answer, clientError, serverRead, sent } = await oversized(Buffer.alloc(900 << 10, 0x61), {
      endAfterBody: true,
    });
    expect(answer.slice(0, 12)).toBe('HTTP/1.1 431');
    expect(parse(answer).body).toMatchObject({ status: 431, code: 'BAD_REQUEST' });
    expect(clientError).toBeUndefined();
    expect(serverRead).toBe(sent);
  });

  it('bounds that reading: past LINGER.bytes, or LINGER.idleMs without a byte, the connection is closed', async () => {
    const saved = { ...LINGER };
    try {
      LINGER.bytes = 64 << 10;
      const cut = await oversized(Buffer.alloc(2 << 20, 0x61), { endAfterBody: true });
      expect(cut.answer.slice(0, 12)).toBe('HTTP/1.1 431');
      expect(cut.serverRead).toBeLessThan(cut.sent);
      LINGER.bytes = saved.bytes;
      LINGER.idleMs = 200;
      // The client sends its whole body and then neither closes nor sends: the server closes.
      const idle = await oversized(Buffer.alloc(64 << 10, 0x61), { endAfterBody: false });
      expect(idle.answer.slice(0, 12)).toBe('HTTP/1.1 431');
      expect(idle.serverRead).toBe(idle.sent);
    } finally {
      Object.assign(LINGER, saved);
    }
  });

  it("answers what Node's parser refuses with a problem too (a control character in a header)", async () => {
    const answer = parse(await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(answer.body.requestId).toEqual(answer.headers['x-request-id']);
  });
});
