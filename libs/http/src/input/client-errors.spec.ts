import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { answerClientErrors } from './client-errors';

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

  it("answers what Node's parser refuses with a problem too (a control character in a header)", async () => {
    const answer = parse(await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(answer.body.requestId).toEqual(answer.headers['x-request-id']);
  });
});
