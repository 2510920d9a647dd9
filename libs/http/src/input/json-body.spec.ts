import express, { json, urlencoded, type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { toProblem } from '../nest/problem.filter';
import { verifyJsonBody } from './json-body';

/** express with the API's body parsers, answering each request with the problem toProblem makes of its error. */
describe('reading request bodies: every failure is a 4xx problem (real body-parser)', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use(json({ limit: 64 * 1024, verify: verifyJsonBody(8) }));
    app.use(urlencoded({ extended: false, limit: 64 * 1024, parameterLimit: 1000 }));
    app.post(
      '/echo',
      (req: Request, res: Response) => void res.json({ ok: true, body: req.body as unknown }),
    );
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const p = toProblem(err);
      res.status(p.status).json({ code: p.code, title: p.title, reason: p.extensions.reason });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = async (body: string | Buffer, headers: Record<string, string>) => {
    const res = await fetch(`${base}/echo`, { method: 'POST', headers, body });
    return {
      status: res.status,
      body: (await res.json()) as { code?: string; reason?: string; ok?: boolean; body?: unknown },
    };
  };

  it('parses ordinary JSON and forms (the checks do not get in the way)', async () => {
    expect(
      await post(JSON.stringify({ a: { b: [1, 'x'] } }), { 'content-type': 'application/json' }),
    ).toEqual({ status: 200, body: { ok: true, body: { a: { b: [1, 'x'] } } } });
    expect(
      (
        await post(gzipSync(JSON.stringify({ a: 1 })), {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        })
      ).status,
    ).toBe(200);
    expect(
      (await post('a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' })).body.body,
    ).toEqual({ a: '1', b: '2' });
  });

  it('an unknown Content-Encoding is 415, a body that is not what its encoding says is 400', async () => {
    expect(
      await post('{}', { 'content-type': 'application/json', 'content-encoding': 'klingon' }),
    ).toMatchObject({
      status: 415,
      body: { code: 'UNSUPPORTED_MEDIA_TYPE', reason: 'encoding.unsupported' },
    });
    expect(
      await post('{"not":"gzip"}', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
    ).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
    expect(
      await post('{"not":"deflate"}', { 'content-type': 'application/json', 'content-encoding': 'deflate' }),
    ).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
  });

  it('an unknown charset is 415, and JSON in another charset than UTF-8 too', async () => {
    expect(await post('{}', { 'content-type': 'application/json; charset=klingon' })).toMatchObject({
      status: 415,
      body: { reason: 'charset.unsupported' },
    });
    expect(
      await post(Buffer.from('{"a":1}', 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' }),
    ).toMatchObject({ status: 415, body: { reason: 'charset.unsupported' } });
    expect(
      await post('a=1', { 'content-type': 'application/x-www-form-urlencoded; charset=klingon' }),
    ).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('a form of 3,000 fields is 413, malformed JSON 400, JSON nested too deep 400 before it is parsed', async () => {
    const form = Array.from({ length: 3000 }, (_, i) => `f${i}=${i}`).join('&');
    expect(await post(form, { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE', reason: 'parameters.too.many' },
    });
    expect(await post('{"a":', { 'content-type': 'application/json' })).toMatchObject({
      status: 400,
      body: { reason: 'entity.parse.failed' },
    });
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    expect(await post(deep, { 'content-type': 'application/json' })).toMatchObject({
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE' },
    }); // 100 KB > the 64 KB limit
    const deepSmall = '['.repeat(9) + ']'.repeat(9);
    expect(await post(deepSmall, { 'content-type': 'application/json' })).toMatchObject({
      status: 400,
      body: { code: 'BAD_REQUEST', reason: 'entity.too.deep' },
    });
    expect((await post('['.repeat(8) + ']'.repeat(8), { 'content-type': 'application/json' })).status).toBe(
      200,
    );
  });

  it('a body over the size limit is 413', async () => {
    expect(await post('x'.repeat(70 * 1024), { 'content-type': 'application/json' })).toMatchObject({
      status: 413,
      body: { reason: 'entity.too.large' },
    });
  });
});
