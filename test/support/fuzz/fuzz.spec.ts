import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { bodyFor } from './bodies';
import { judge } from './oracle';
import {
  operationsFromOpenApi,
  servingOperations,
  undocumentedApiOperations,
  type OpenApiDocument,
  type Operation,
} from './operations';
import { authorization, encodeBytes, requestFor, resourceOf } from './requests';
import { formatReport, fuzz, operationSeed } from './runner';
import { send, type Outcome } from './send';
import { writeJson } from './values';

const DOC: OpenApiDocument = {
  paths: {
    '/v1/health/live': { get: {} },
    '/v1/things/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        security: [{ bearer: [] }],
      },
    },
    '/v1/things': {
      post: {
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
        security: [{ bearer: [] }],
      },
    },
    '/v1/admin/tenants': {
      get: {
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'number' } }],
        security: [{ bearer: [] }],
      },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        properties: { name: { type: 'string' }, size: { type: 'number', minimum: 1, maximum: 10 } },
        required: ['name'],
      },
    },
  },
};

const ctx = {
  ids: { things: ['11111111-1111-4111-8111-111111111111'] },
  files: [Buffer.from('PK\u0003\u0004 not really a zip')],
};

describe('fuzz values and requests', () => {
  it('writes JSON token by token: raw numbers, duplicate and __proto__ members, 5,000 levels without recursion', () => {
    expect(
      writeJson({
        obj: [
          ['a', { num: '1e999' }],
          ['a', { num: '-0' }],
          ['__proto__', { arr: [null, true, '\u0000'] }],
        ],
      }),
    ).toBe('{"a":1e999,"a":-0,"__proto__":[null,true,"\\u0000"]}');
    const deep = writeJson({ nest: 5_000, arrays: false });
    expect(deep.length).toBe(5_000 * 6 + 3);
    expect(() => JSON.parse(deep)).not.toThrow();
    expect(writeJson({ nest: 3, arrays: true })).toBe('[[["x"]]]');
  });

  it('percent-encodes UTF-8 bytes and turns a lone surrogate into U+FFFD', () => {
    expect(encodeBytes('a b/é\u0000')).toBe('a%20b%2F%C3%A9%00');
    expect(encodeBytes('\ud800')).toBe('%EF%BF%BD');
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => decodeURIComponent(encodeBytes(s)) === s));
  });

  it('reads operations, inlined schemas and the credential each needs from an OpenAPI document', () => {
    const ops = operationsFromOpenApi(DOC);
    expect(ops.map((o) => `${o.method} ${o.path} ${o.credential}`).sort()).toEqual([
      'GET /v1/admin/tenants operator',
      'GET /v1/health/live none',
      'GET /v1/things/{id} tenant',
      'POST /v1/things tenant',
    ]);
    const post = ops.find((o) => o.method === 'POST')!;
    expect(post.body).toEqual({ types: ['application/json'], schema: DOC.components!.schemas!.Thing });
    expect(ops.find((o) => o.path === '/v1/things/{id}')!.params).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it("lists the serving app's routes from its controllers, and its predict route", () => {
    const ops = servingOperations().map((o) => `${o.method} ${o.path} ${o.credential}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        'GET /v1/health/ready none',
        'GET /v1/serving/stats operator',
        'POST /v1/deployments/{id}/predict tenant',
      ]),
    );
  });

  it("adds the API controllers' routes the document leaves out (presigned object URLs, a wildcard key), and no documented one twice", () => {
    const documented = operationsFromOpenApi({
      paths: { '/v1/jobs/{id}': { get: { security: [] } }, '/v1/health/live': { get: {} } },
    });
    const extra = undocumentedApiOperations(documented);
    const keys = extra.map((o) => `${o.method} ${o.path}`);
    expect(keys).toEqual(
      expect.arrayContaining(['GET /v1/objects/{key}', 'PUT /v1/objects/{key}', 'POST /v1/jobs']),
    );
    expect(keys).not.toContain('GET /v1/jobs/{p0}');
    expect(keys).not.toContain('GET /v1/health/live');
    expect(extra.find((o) => o.path === '/v1/objects/{key}')!.params).toEqual([
      { name: 'key', in: 'path', required: true, schema: { type: 'string' }, wildcard: true },
    ]);
  });

  it('uses real ids by the segment before each parameter, and real query strings as sent and mutated', () => {
    expect(resourceOf('/v1/datasets/{id}/versions/{versionId}')).toBe('versions');
    expect(resourceOf('/v1/jobs/{id}/events')).toBe('jobs');
    const op: Operation = {
      app: 'api',
      method: 'GET',
      path: '/v1/objects/{key}',
      params: [{ name: 'key', in: 'path', required: true, schema: {}, wildcard: true }],
      credential: 'none',
    };
    const real = {
      ...ctx,
      ids: { objects: ['tenants/t/models/m.zip'] },
      queries: { objects: ['expires=1&signature=abc'] },
    };
    const targets = fc.sample(requestFor(op, real), { seed: 3, numRuns: 300 }).map((r) => r.target);
    expect(targets).toContain('/v1/objects/tenants/t/models/m.zip?expires=1&signature=abc');
    expect(
      targets.some(
        (t) =>
          t.startsWith('/v1/objects/tenants/t/models/m.zip?') &&
          t !== '/v1/objects/tenants/t/models/m.zip?expires=1&signature=abc',
      ),
    ).toBe(true);
    expect(targets.some((t) => !t.startsWith('/v1/objects/tenants/t/models/m.zip'))).toBe(true);
  });

  it('generates requests that Node can send (latin1 header values, path without spaces or controls) for every operation', () => {
    const ops: Operation[] = [...operationsFromOpenApi(DOC), ...servingOperations()];
    for (const op of ops) {
      fc.assert(
        fc.property(requestFor(op, ctx), (r) => {
          expect(r.target).not.toMatch(/[^\u0021-\u00ff]/);
          expect(r.target.startsWith(op.path.split('{')[0])).toBe(true);
          for (const [, v] of [...r.headers, ...(r.body?.headers ?? [])])
            expect(v).not.toMatch(/[^\t\x20-\x7e\x80-\xff]/);
          const auth = authorization(r.auth, 'msk_valid');
          if (auth !== undefined) expect(auth).not.toMatch(/[^\t\x20-\x7e\x80-\xff]/);
        }),
        { seed: 1, numRuns: 60 },
      );
    }
  });

  it('keeps every body under 4 MB (the API refuses over 1 MiB; past that only the client pays)', () => {
    const schema = {
      type: 'object',
      properties: {
        parts: { type: 'array', items: { type: 'object', properties: { etag: { type: 'string' } } } },
        name: { type: 'string' },
      },
    };
    for (const types of [['application/json'], ['multipart/form-data']]) {
      const sizes = fc
        .sample(bodyFor(types, schema, ctx), { seed: 11, numRuns: 400 })
        .map((b) => b.bytes.length);
      expect(Math.max(...sizes)).toBeLessThan(4 << 20);
    }
  });

  it('makes the hostile kinds of body it promises: broken multipart, bogus encodings, abandoned uploads', () => {
    const kinds = new Set(
      fc
        .sample(
          bodyFor(
            ['multipart/form-data'],
            {
              type: 'object',
              properties: { format: { type: 'string' }, file: { type: 'string', format: 'binary' } },
            },
            ctx,
          ),
          { seed: 7, numRuns: 600 },
        )
        .map((b) => b.kind.replace(/ at \d+$/, '')),
    );
    for (const k of [
      'multipart (ok)',
      'multipart (cut)',
      'multipart (unclosed)',
      'multipart (no-boundary)',
      'plain json labelled gzip',
      'json with content-encoding bogus',
      'malformed json',
    ])
      expect(kinds).toContain(k);
    expect([...kinds].some((k) => k.endsWith(', abandoned'))).toBe(true);
  });
});

describe('fuzz oracle', () => {
  const outcome = (
    status: number | undefined,
    type: string,
    body: unknown,
    extra: Partial<Outcome> = {},
  ): Outcome => ({
    status,
    headers: type ? { 'content-type': type } : {},
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    ms: 1,
    ...extra,
  });
  const problem = { status: 400, code: 'VALIDATION_FAILED', requestId: 'r1' };

  it('accepts successes and complete problems', () => {
    expect(judge(outcome(200, 'application/json', {}))).toBeUndefined();
    expect(judge(outcome(400, 'application/problem+json; charset=utf-8', problem))).toBeUndefined();
    expect(judge(outcome(undefined, '', '', { abandoned: true, error: 'socket hang up' }))).toBeUndefined();
  });

  it('names every failure: a 5xx (even 503), another content type, a missing code or requestId, no answer', () => {
    expect(judge(outcome(500, 'application/problem+json', { code: 'INTERNAL', requestId: 'r' }))).toBe(
      'answered 500 INTERNAL',
    );
    expect(
      judge(outcome(503, 'application/problem+json', { code: 'SERVICE_UNAVAILABLE', requestId: 'r' })),
    ).toMatch(/^answered 503/);
    expect(judge(outcome(400, 'text/html', '<html>'))).toBe(
      'answered 400 as "text/html", not application/problem+json',
    );
    expect(judge(outcome(417, '', ''))).toBe(
      'answered 417 as "no content-type", not application/problem+json',
    );
    expect(judge(outcome(400, 'application/problem+json', { requestId: 'r' }))).toMatch(/without a code/);
    expect(judge(outcome(400, 'application/problem+json', { code: 'BAD_REQUEST' }))).toMatch(
      /without a requestId/,
    );
    expect(judge(outcome(undefined, '', '', { error: 'socket hang up' }))).toBe('no answer: socket hang up');
    const echo = { ...problem, detail: 'x'.repeat(70_000) };
    expect(judge(outcome(400, 'application/problem+json', echo))).toMatch(
      /^answered 400 with a problem of 70\d{3} bytes \(over 65536/,
    );
  });
});

describe('fuzz runner against a server with planted bugs', () => {
  let server: Server;
  let url: string;
  let dead = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      // Planted: a NUL anywhere in the path is a 500; a `boom` query kills the "process".
      const problem = (status: number, code: string) => {
        res.writeHead(status, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ status, code, requestId: 'x' }));
      };
      if (req.url?.includes('boom')) {
        dead = true;
        req.socket.destroy();
        return;
      }
      if (req.url?.includes('%00')) return problem(500, 'INTERNAL');
      if (req.url === '/early') {
        // Answers before reading the body, then closes: the client is still writing.
        res.writeHead(401, { 'content-type': 'application/problem+json', connection: 'close' });
        res.end(JSON.stringify({ code: 'UNAUTHENTICATED', requestId: 'e' }), () => req.socket.destroy());
        return;
      }
      if (req.url === '/chunked') {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.write('{"code":"NOT_FOUND",');
        res.end('"requestId":"c"}');
        return;
      }
      return problem(404, 'NOT_FOUND');
    });
    // Node answers an unknown Expect (417) and what its parser refuses (431, 400) with bare answers unless told otherwise.
    server.on('checkExpectation', (req, res) => server.emit('request', req, res));
    server.on('clientError', (_e, socket) =>
      socket.end(
        'HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\nconnection: close\r\n\r\n{"code":"BAD_REQUEST","requestId":"x"}',
      ),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const base = {
    ctx,
    baseUrl: () => url,
    token: () => 'msk_test',
    seed: 42,
    deadProcess: () => (dead ? 'api' : undefined),
  };

  it('reads an answer the server sent before closing on a body it did not read (an HTTP client only reports EPIPE)', async () => {
    const req = {
      op: 'POST /early',
      app: 'api' as const,
      method: 'POST',
      target: '/early',
      headers: [],
      auth: { kind: 'none' as const },
      body: {
        kind: 'big',
        headers: [['content-type', 'application/octet-stream']] as [string, string][],
        bytes: Buffer.alloc(8 << 20, 1),
      },
    };
    const out = await send(url, req, undefined);
    expect(out.status).toBe(401);
    expect(JSON.parse(out.body.toString())).toEqual({ code: 'UNAUTHENTICATED', requestId: 'e' });
    expect(judge(out)).toBeUndefined();
  });

  it('reads a chunked error answer to its end', async () => {
    const out = await send(
      url,
      {
        op: 'GET /chunked',
        app: 'api',
        method: 'GET',
        target: '/chunked',
        headers: [],
        auth: { kind: 'none' },
      },
      undefined,
    );
    expect(out).toMatchObject({ status: 404, bodyBytes: 36 });
    expect(judge(out)).toBeUndefined();
  });

  it('finds the 500, shrinks the request and reports route, method and the shrunk request', async () => {
    const op = operationsFromOpenApi(DOC).find((o) => o.path === '/v1/things/{id}')!;
    const report = await fuzz({ ...base, ops: [op], runs: 200 });
    expect(report.failures).toHaveLength(1);
    const [f] = report.failures;
    expect(f.op).toBe('GET /v1/things/{id}');
    expect(f.problem).toBe('answered 500 INTERNAL');
    expect(f.request.target).toContain('%00');
    // Shrunk: the path is short, and nothing the bug does not need is left on the request.
    expect(f.request.target.length).toBeLessThan(40);
    expect(f.request.headers).toEqual([]);
    expect(f.seed).toBe(operationSeed(42, 'GET /v1/things/{id}'));
    const text = formatReport(report);
    expect(text).toContain('GET /v1/things/{id}: answered 500 INTERNAL');
    expect(text).toContain(`FUZZ_SEED=42 FUZZ_ONLY="GET /v1/things/{id}" FUZZ_PATH=${f.path}`);
    expect(text).toMatch(/shrunk request:\n\s+GET "\/v1\/things\/[^"]*%00/);
  });

  it('replays the same failure from the seed and path it reports', async () => {
    const op = operationsFromOpenApi(DOC).find((o) => o.path === '/v1/things/{id}')!;
    const first = await fuzz({ ...base, ops: [op], runs: 200 });
    const replay = await fuzz({
      ...base,
      ops: [op],
      runs: 200,
      only: 'GET /v1/things',
      replayPath: first.failures[0].path,
    });
    expect(replay.failures.map((f) => f.request.target)).toEqual([first.failures[0].request.target]);
  });

  it('stops at a process that exits and names the requests just before', async () => {
    const op: Operation = {
      ...operationsFromOpenApi(DOC).find((o) => o.path === '/v1/admin/tenants')!,
      params: [{ name: 'boom', in: 'query', required: true, schema: { type: 'string' } }],
    };
    const report = await fuzz({
      ...base,
      ops: [op, ...operationsFromOpenApi(DOC)],
      runs: 50,
      processOutput: (name) => `${name}: TypeError: boom`,
    });
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0].problem).toBe('api exited');
    expect(report.failures[0].crash?.lastRequests.at(-1)?.target).toContain('boom');
    expect(report.operations).toHaveLength(1);
    expect(formatReport(report)).toContain('the end of its output:\n    api: TypeError: boom');
  });
});
