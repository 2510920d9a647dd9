import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendWebhook } from './sender';
import { assertTargetAllowed, guardedLookup, refusedAddress, WebhookTargetError } from './target-policy';

const open = { allowPrivate: true };
const strict = { allowPrivate: false };

describe('webhook target policy', () => {
  it.each([
    ['8.8.8.8', null],
    ['2001:4860:4860::8888', null],
    ['127.0.0.1', /loopback/],
    ['::1', /loopback/],
    ['10.1.2.3', /private/],
    ['192.168.0.10', /private/],
    ['172.20.0.1', /private/],
    ['100.64.0.1', /carrierGradeNat/],
    ['fd12::1', /uniqueLocal/],
    ['::ffff:10.0.0.1', /private/],
    ['169.254.169.254', /linkLocal/],
    ['fe80::1', /linkLocal/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['64:ff9b::a00:1', /rfc6052/],
  ])('strict policy: %s -> %s', (addr, why) => {
    const r = refusedAddress(addr, strict);
    if (why === null) expect(r).toBeNull();
    else expect(r).toMatch(why);
  });

  it('lets the operator open private and loopback ranges, never link-local or metadata addresses', () => {
    for (const a of ['127.0.0.1', '::1', '10.1.2.3', 'fd12::1', '100.64.0.1'])
      expect(refusedAddress(a, open)).toBeNull();
    for (const a of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '0.0.0.0'])
      expect(refusedAddress(a, open)).not.toBeNull();
  });

  it('resolves names and checks every address they have', async () => {
    await expect(assertTargetAllowed(new URL('http://localhost:9/'), strict)).rejects.toThrow(
      WebhookTargetError,
    );
    await expect(assertTargetAllowed(new URL('http://localhost:9/'), open)).resolves.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]),
    );
    await expect(assertTargetAllowed(new URL('http://no-such-host.invalid/'), open)).rejects.toThrow(
      /does not resolve/,
    );
  });
});

describe('guardedLookup (the socket-level check against DNS rebinding)', () => {
  const look = (policy: { allowPrivate: boolean }, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      guardedLookup(policy)('localhost', { all }, (err, address) => done({ err, address })),
    );

  it('fails the connection when the name resolves to a refused address, answers otherwise', async () => {
    expect((await look(strict, true)).err).toMatchObject({ code: 'EFORBIDDEN' });
    const one = await look(open, false);
    expect(one.err).toBeNull();
    expect(one.address).toMatch(/^(127\.0\.0\.1|::1)$/);
    const all = await look(open, true);
    expect(all.address).toEqual(
      expect.arrayContaining([expect.objectContaining({ family: expect.any(Number) })]),
    );
  });
});

describe('sendWebhook against local servers', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      req.resume();
      switch (req.url ?? '') {
        case '/ok':
          res.writeHead(200).end('fine');
          return;
        case '/redirect':
          res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
          return;
        case '/silent':
          return; // never answers
        case '/endless': {
          // An answer that never ends: the sender must stop reading at its cap, not wait for the end.
          res.writeHead(200);
          const chunk = Buffer.alloc(16 * 1024, 97);
          const pump = () => {
            while (res.write(chunk));
          };
          res.on('drain', pump);
          pump();
          return;
        }
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('refuses a loopback target at send time unless the operator allows it, without connecting', async () => {
    const before = hits.length;
    const refused = await sendWebhook(`${base}/ok`, '{}', {}, { policy: strict, timeoutMs: 2000 });
    expect(refused).toMatchObject({
      statusCode: null,
      refused: true,
      error: expect.stringMatching(/loopback/),
    });
    const byName = await sendWebhook(
      `${base.replace('127.0.0.1', 'localhost')}/ok`,
      '{}',
      {},
      { policy: strict, timeoutMs: 2000 },
    );
    expect(byName.refused).toBe(true);
    expect(hits.length).toBe(before);
    const ok = await sendWebhook(`${base}/ok`, '{}', {}, { policy: open, timeoutMs: 2000 });
    expect(ok).toMatchObject({ statusCode: 200, error: null, refused: false });
    expect(hits.length).toBe(before + 1);
  });

  it('does not follow redirects', async () => {
    const r = await sendWebhook(`${base}/redirect`, '{}', {}, { policy: open, timeoutMs: 2000 });
    expect(r).toMatchObject({
      statusCode: 302,
      refused: false,
      error: expect.stringMatching(/redirects are not followed/),
    });
  });

  it('gives up on a silent receiver after its timeout', async () => {
    const r = await sendWebhook(`${base}/silent`, '{}', {}, { policy: open, timeoutMs: 300 });
    expect(r).toMatchObject({ statusCode: null, error: 'no answer within 300 ms' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(290);
    expect(r.latencyMs).toBeLessThan(5_000);
  });

  it('stops reading an endless answer at its size cap instead of waiting for the timeout', async () => {
    const r = await sendWebhook(`${base}/endless`, '{}', {}, { policy: open, timeoutMs: 20_000 });
    expect(r).toMatchObject({ statusCode: 200, error: null });
    expect(r.latencyMs).toBeLessThan(10_000);
  });
});
