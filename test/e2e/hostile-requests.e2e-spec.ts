/**
 * Hostile requests against the real processes (API, serving, worker from dist/): each one the outside
 * tester found to end a process or answer 500 is answered with a 4xx problem+json carrying a request
 * id, and afterwards every process is still running and ready.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { call, startPlatform, type Platform } from '../support/platform';
import { storeModel, tinyDigitModel } from '../support/models';
import { DIGIT_CLASSES, mnistPng } from '../support/archives';

jest.setTimeout(300_000);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request with exactly the bytes given (node:http, so headers like Content-Encoding and bodies
 * like a truncated multipart go out as written). `path` is sent as is, percent-escapes included.
 */
function send(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...opts.headers,
          ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Raw bytes on a socket (for requests node:http refuses to send, such as control characters in the request line). */
function sendRaw(base: string, bytes: string): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes, 'latin1'));
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (raw += c));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: rest.join('\r\n\r\n') });
    });
  });
}

/** The answer is a 4xx problem+json document with a stable code and the request id (also in X-Request-Id). */
function expectProblem(
  what: string,
  a: Answer,
  status?: number,
): { code: string; detail?: string; errors?: { field: string }[] } {
  const context = `${what}: ${a.status} ${a.text.slice(0, 300)}`;
  expect({ context, clientError: a.status >= 400 && a.status < 500 }).toEqual({ context, clientError: true });
  if (status !== undefined) expect({ context, status: a.status }).toEqual({ context, status });
  expect({ context, type: String(a.headers['content-type']) }).toEqual({
    context,
    type: expect.stringMatching(/^application\/problem\+json/),
  });
  const body = JSON.parse(a.text) as { code?: unknown; requestId?: unknown; status?: unknown };
  expect({ context, code: typeof body.code, requestId: body.requestId, status: body.status }).toEqual({
    context,
    code: 'string',
    requestId: a.headers['x-request-id'],
    status: a.status,
  });
  expect(body.requestId).toEqual(expect.any(String));
  return body as { code: string; detail?: string; errors?: { field: string }[] };
}

const TRUNCATED_MULTIPART =
  '--zz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG';
const TRUNCATED_FILE_PART =
  '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nPK\x03\x04';
const MULTIPART_ZZ = 'multipart/form-data; boundary=zz';
const NUL = '\u0000';

describe('hostile requests never take the platform down (real API, serving, worker)', () => {
  let p: Platform;
  let key: string;
  let datasetId: string;
  let modelId: string;
  let deploymentId: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    p = await startPlatform();
    const t = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'Hostile' },
    });
    key = t.body.apiKey.key;
    auth = { authorization: `Bearer ${key}` };
    const ds = await call(p.apiUrl, 'POST', '/v1/datasets', {
      token: key,
      body: { name: 'target', task: 'image-classification' },
    });
    expect(ds.status).toBe(201);
    datasetId = ds.body.id;
    modelId = (await storeModel(p, t.body.tenant.id, tinyDigitModel(1), [...DIGIT_CLASSES])).id;
    const dep = await call(p.apiUrl, 'POST', '/v1/deployments', { token: key, body: { modelId } });
    expect(dep.status).toBe(201);
    deploymentId = dep.body.id;
  });

  afterAll(async () => {
    for (const [name, proc] of [
      ['api', p?.api],
      ['serving', p?.serving],
      ['worker', p?.workers[0]],
    ] as const) {
      if (proc && proc.child.exitCode !== null) console.error(`--- ${name} exited ---\n${proc.output()}`);
    }
    await p?.stop();
  });

  it('truncated multipart bodies: 400 from serving predict, dataset versions and batch predictions', async () => {
    const predict = await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      headers: { ...auth, 'content-type': MULTIPART_ZZ },
      body: TRUNCATED_MULTIPART,
    });
    expectProblem('serving predict, truncated', predict, 400);
    for (const path of [`/v1/datasets/${datasetId}/versions`, `/v1/models/${modelId}/batch-predictions`]) {
      expectProblem(
        `${path}, truncated`,
        await send(p.apiUrl, 'POST', path, {
          headers: { ...auth, 'content-type': MULTIPART_ZZ },
          body: TRUNCATED_FILE_PART,
        }),
        400,
      );
      expectProblem(
        `${path}, no boundary`,
        await send(p.apiUrl, 'POST', path, {
          headers: { ...auth, 'content-type': 'multipart/form-data' },
          body: 'x',
        }),
        400,
      );
      const nulName =
        '--zz\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\'a%00.zip\r\n\r\nPK\r\n--zz--\r\n';
      expectProblem(
        `${path}, NUL in file name`,
        await send(p.apiUrl, 'POST', path, {
          headers: { ...auth, 'content-type': MULTIPART_ZZ },
          body: nulName,
        }),
        400,
      );
      const nulField = `--zz\r\nContent-Disposition: form-data; name="format"\r\n\r\njsonl${NUL}\r\n--zz\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nPK\r\n--zz--\r\n`;
      const field = expectProblem(
        `${path}, NUL in a field`,
        await send(p.apiUrl, 'POST', path, {
          headers: { ...auth, 'content-type': MULTIPART_ZZ },
          body: nulField,
        }),
        400,
      );
      expect(field.errors?.map((e) => e.field)).toEqual(['format']);
    }
    expectProblem(
      'serving predict, no boundary',
      await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
        headers: { ...auth, 'content-type': 'multipart/form-data' },
        body: 'x',
      }),
      400,
    );
    // The version the truncated upload opened is discarded: the dataset still has none.
    expect((await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}`, { token: key })).body.versions).toEqual(
      [],
    );
  });

  it('forms of 3,000 fields: 413 from the API (urlencoded and multipart) and from serving', async () => {
    const urlencoded = Array.from({ length: 3000 }, (_, i) => `f${i}=${i}`).join('&');
    expectProblem(
      'urlencoded 3,000 fields',
      await send(p.apiUrl, 'POST', '/v1/datasets', {
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: urlencoded,
      }),
      413,
    );
    const multipart = `${Array.from({ length: 3000 }, (_, i) => `--zz\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n${i}\r\n`).join('')}--zz--\r\n`;
    expectProblem(
      'multipart 3,000 fields (API)',
      await send(p.apiUrl, 'POST', `/v1/datasets/${datasetId}/versions`, {
        headers: { ...auth, 'content-type': MULTIPART_ZZ },
        body: multipart,
      }),
      413,
    );
    expectProblem(
      'multipart 3,000 fields (serving)',
      await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
        headers: { ...auth, 'content-type': MULTIPART_ZZ },
        body: multipart,
      }),
      413,
    );
  });

  it('bodies that cannot be read: bogus Content-Encoding, non-gzip sent as gzip, unknown charset', async () => {
    const json = JSON.stringify({ name: 'x', task: 'image-classification' });
    const cases: [string, Record<string, string>, number][] = [
      ['bogus Content-Encoding', { 'content-type': 'application/json', 'content-encoding': 'klingon' }, 415],
      ['non-gzip body sent as gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400],
      [
        'non-deflate body sent as deflate',
        { 'content-type': 'application/json', 'content-encoding': 'deflate' },
        400,
      ],
      ['charset=klingon', { 'content-type': 'application/json; charset=klingon' }, 415],
      [
        'urlencoded charset=klingon',
        { 'content-type': 'application/x-www-form-urlencoded; charset=klingon' },
        415,
      ],
      ['JSON in UTF-16', { 'content-type': 'application/json; charset=utf-16' }, 415],
    ];
    for (const [what, headers, status] of cases) {
      expectProblem(
        what,
        await send(p.apiUrl, 'POST', '/v1/datasets', { headers: { ...auth, ...headers }, body: json }),
        status,
      );
    }
    expectProblem(
      'malformed JSON',
      await send(p.apiUrl, 'POST', '/v1/datasets', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"name":',
      }),
      400,
    );
    expectProblem(
      'serving: malformed JSON',
      await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"images":',
      }),
      400,
    );
  });

  it('deeply nested JSON (20,000 objects) is 400 before validation, on every JSON route', async () => {
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const deepArrays = `{"name":"x","task":"image-classification","options":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const routes: [string, string][] = [
      ['POST', '/v1/datasets'],
      ['POST', '/v1/jobs'],
      ['POST', '/v1/deployments'],
      ['PATCH', `/v1/deployments/${deploymentId}`],
      ['POST', '/v1/api-keys'],
      ['POST', `/v1/datasets/${datasetId}/uploads`],
    ];
    for (const [method, path] of routes) {
      for (const body of [deep, deepArrays]) {
        expectProblem(
          `${method} ${path} deep`,
          await send(p.apiUrl, method, path, {
            headers: { ...auth, 'content-type': 'application/json' },
            body,
          }),
          400,
        );
      }
    }
    expectProblem(
      'admin tenants deep',
      await send(p.apiUrl, 'POST', '/v1/admin/tenants', {
        headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json' },
        body: deep,
      }),
      400,
    );
    expectProblem(
      'serving deep',
      await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
        headers: { ...auth, 'content-type': 'application/json' },
        body: deep,
      }),
      400,
    );
  });

  it('NUL and other control characters in bodies are 400 naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/datasets', { name: `a${NUL}b`, task: 'image-classification' }, 'name'],
      [
        'POST',
        '/v1/datasets',
        { name: 'ok', task: 'image-classification', description: `x${NUL}` },
        'description',
      ],
      ['POST', '/v1/datasets', { name: 'bell\u0007', task: 'image-classification' }, 'name'],
      ['POST', '/v1/datasets', { name: 'lone \ud800 surrogate', task: 'image-classification' }, 'name'],
      ['POST', '/v1/api-keys', { name: `k${NUL}`, scopes: ['READ'] }, 'name'],
      ['POST', '/v1/deployments', { modelId, name: `d${NUL}` }, 'name'],
      ['POST', '/v1/deployments', { modelId: `${modelId}${NUL}` }, 'modelId'],
      ['PATCH', `/v1/deployments/${deploymentId}`, { name: `d${NUL}` }, 'name'],
      ['POST', '/v1/jobs', { task: 'image-classification', datasetVersionId: `v${NUL}` }, 'datasetVersionId'],
      ['POST', '/v1/jobs', { task: 'noop', options: { backbone: `b${NUL}` } }, 'options.backbone'],
      ['POST', `/v1/datasets/${datasetId}/uploads`, { fileName: `a${NUL}.zip`, sizeBytes: 10 }, 'fileName'],
      [
        'POST',
        `/v1/datasets/${datasetId}/uploads`,
        { fileName: 'a.zip', sizeBytes: 10, options: { target: `t${NUL}` } },
        'options.target',
      ],
    ];
    for (const [method, path, body, field] of cases) {
      const a = await send(p.apiUrl, method, path, {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const problem = expectProblem(`${method} ${path} ${field}`, a, 400);
      expect({ path, field, errors: problem.errors?.map((e) => e.field) }).toEqual({
        path,
        field,
        errors: [field],
      });
    }
    const tenant = await send(p.apiUrl, 'POST', '/v1/admin/tenants', {
      headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `t${NUL}` }),
    });
    expect(expectProblem('tenant name', tenant, 400).errors?.map((e) => e.field)).toEqual(['name']);
    // Free text keeps its line breaks.
    const multiLine = await call(p.apiUrl, 'POST', '/v1/datasets', {
      token: key,
      body: { name: 'lines', task: 'image-classification', description: 'first line\nsecond\tline' },
    });
    expect(multiLine.status).toBe(201);
    expect(multiLine.body.description).toBe('first line\nsecond\tline');
  });

  it('bodies of the wrong shape are 400: arrays, scalars, nested values where objects belong', async () => {
    const cases: [string, string, string][] = [
      ['POST', '/v1/datasets', '[]'],
      ['POST', '/v1/datasets', '[{"name":"x","task":"image-classification"}]'],
      ['POST', '/v1/datasets', '{"name":{"$gt":""},"task":"image-classification"}'],
      ['POST', '/v1/jobs', '{"task":"noop","options":[]}'],
      ['POST', '/v1/jobs', '{"task":"noop","options":"fast"}'],
      ['POST', '/v1/jobs', '{"task":"image-classification","budget":[1]}'],
      ['POST', '/v1/deployments', `{"modelId":"${modelId}","config":[]}`],
      ['POST', '/v1/api-keys', '{"name":"k","scopes":"READ"}'],
      ['POST', '/v1/api-keys', '{"name":"k","scopes":[["READ"]]}'],
    ];
    for (const [method, path, body] of cases) {
      expectProblem(
        `${method} ${path} ${body.slice(0, 60)}`,
        await send(p.apiUrl, method, path, {
          headers: { ...auth, 'content-type': 'application/json' },
          body,
        }),
        400,
      );
    }
  });

  it('NUL, garbage and broken percent-encoding in path ids and queries are 4xx, never 500', async () => {
    for (const id of ['%00', 'abc%00def', 'nope', '%ff', '%E0%A4%A', '..%2F..%2Fetc', 'x'.repeat(2000)]) {
      for (const path of [
        `/v1/datasets/${id}`,
        `/v1/jobs/${id}`,
        `/v1/jobs/${id}/events`,
        `/v1/models/${id}`,
        `/v1/deployments/${id}`,
        `/v1/uploads/${id}`,
        `/v1/datasets/${datasetId}/versions/${id}`,
      ]) {
        expectProblem(`GET ${path.slice(0, 80)}`, await send(p.apiUrl, 'GET', path, { headers: auth }));
      }
      expectProblem(
        `DELETE /v1/api-keys/${id.slice(0, 20)}`,
        await send(p.apiUrl, 'DELETE', `/v1/api-keys/${id}`, { headers: auth }),
      );
      expectProblem(
        `serving predict ${id.slice(0, 20)}`,
        await send(p.servingUrl, 'POST', `/v1/deployments/${id}/predict`, {
          headers: { ...auth, 'content-type': 'image/png' },
          body: 'x',
        }),
      );
    }
    for (const q of [
      'cursor=%00',
      'cursor=a%00b',
      'datasetVersionId=%00',
      'status=%00',
      'limit=%00',
      'limit=1e400',
      'cursor=%ff',
    ]) {
      expectProblem(
        `GET /v1/jobs?${q}`,
        await send(p.apiUrl, 'GET', `/v1/jobs?${q}`, { headers: auth }),
        400,
      );
    }
    for (const path of [
      '/v1/datasets?cursor=%00',
      '/v1/models?cursor=%00',
      `/v1/deployments?cursor=%00`,
      '/v1/admin/tenants?cursor=%00',
    ]) {
      const headers = path.startsWith('/v1/admin') ? { authorization: `Bearer ${p.adminToken}` } : auth;
      expectProblem(`GET ${path}`, await send(p.apiUrl, 'GET', path, { headers }), 400);
    }
  });

  it('out-of-range numbers and dates in queries and bodies are 400 naming the field', async () => {
    const job = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'noop', options: { durationMs: 0 } },
    });
    expect(job.status).toBe(202);
    const queries = [
      `/v1/jobs/${job.body.id}/events?after=3000000000`,
      `/v1/jobs/${job.body.id}/events?after=1e20`,
      `/v1/jobs/${job.body.id}/events?after=-1`,
      '/v1/jobs?createdAfter=0000-01-01T00:00:00Z',
      '/v1/jobs?createdBefore=%2B275760-09-13T00:00:00Z',
      '/v1/jobs?createdAfter=99999-01-01',
      '/v1/jobs?limit=3000000000',
    ];
    for (const q of queries)
      expectProblem(`GET ${q}`, await send(p.apiUrl, 'GET', q, { headers: auth }), 400);

    const bodies: [string, string, unknown, string][] = [
      ['POST', '/v1/admin/tenants', { name: 'big', computeMinutesPerMonth: 1e15 }, 'computeMinutesPerMonth'],
      ['POST', '/v1/admin/tenants', { name: 'big', maxConcurrentJobs: 3e9 }, 'maxConcurrentJobs'],
      ['POST', '/v1/jobs', { task: 'noop', priority: 1e15 }, 'priority'],
      ['POST', '/v1/jobs', { task: 'noop', options: { durationMs: 1e15 } }, 'options.durationMs'],
      ['POST', '/v1/jobs', { task: 'noop', options: { seed: 1e15 } }, 'options.seed'],
      ['POST', '/v1/jobs', { task: 'noop', budget: { maxMinutes: 1e15 } }, 'budget.maxMinutes'],
      [
        'POST',
        '/v1/api-keys',
        { name: 'k', scopes: ['READ'], rateLimitPerMinute: 1e15 },
        'rateLimitPerMinute',
      ],
      [
        'POST',
        '/v1/api-keys',
        { name: 'k', scopes: ['READ'], expiresAt: '99999-01-01T00:00:00Z' },
        'expiresAt',
      ],
      ['POST', '/v1/deployments', { modelId, config: { topK: 1e15 } }, 'config.topK'],
      ['POST', `/v1/datasets/${datasetId}/uploads`, { fileName: 'a.zip', sizeBytes: 1e20 }, 'sizeBytes'],
    ];
    for (const [method, path, body, field] of bodies) {
      const token = path.startsWith('/v1/admin') ? p.adminToken : key;
      const a = await send(p.apiUrl, method, path, {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect({
        path,
        field,
        errors: expectProblem(`${method} ${path} ${field}`, a, 400).errors?.map((e) => e.field),
      }).toEqual({ path, field, errors: [field] });
    }
    expectProblem(
      'ingest option out of range',
      await send(p.apiUrl, 'POST', `/v1/datasets/${datasetId}/uploads`, {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ fileName: 'a.zip', sizeBytes: 10, options: { splitSeed: 1e15 } }),
      }),
      400,
    );
    expectProblem(
      'serving topK out of range',
      await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ images: ['AAAA'], topK: 1e15 }),
      }),
      400,
    );
  });

  it('an API key created already expired is refused naming expiresAt; one expiring later works', async () => {
    const past = await send(p.apiUrl, 'POST', '/v1/api-keys', {
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'born-dead', scopes: ['READ'], expiresAt: '2001-01-01T00:00:00Z' }),
    });
    const problem = expectProblem('past expiresAt', past, 400);
    expect(problem.errors?.map((e) => e.field)).toEqual(['expiresAt']);
    expect(problem.detail).toContain('expiresAt must be in the future');
    expect(
      (await call(p.apiUrl, 'GET', '/v1/api-keys', { token: key })).body.map((k: { name: string }) => k.name),
    ).not.toContain('born-dead');
    const later = await call(p.apiUrl, 'POST', '/v1/api-keys', {
      token: key,
      body: { name: 'lives', scopes: ['READ'], expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(later.status).toBe(201);
    expect((await call(p.apiUrl, 'GET', '/v1/datasets', { token: later.body.key })).status).toBe(200);
  });

  it("requests Node's HTTP parser refuses are problem+json too", async () => {
    for (const base of [p.apiUrl, p.servingUrl]) {
      const a = await sendRaw(base, `GET /v1/health/live\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`);
      expectProblem(`${base} NUL in request line`, a, 400);
      const b = await sendRaw(base, `GET /v1/health/live HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n`);
      expectProblem(`${base} control character in a header`, b, 400);
    }
  });

  it('afterwards every process is alive and ready', async () => {
    for (const [name, proc] of [
      ['api', p.api],
      ['serving', p.serving],
      ['worker', p.workers[0]],
    ] as const) {
      expect({ name, exitCode: proc.child.exitCode, signal: proc.child.signalCode }).toEqual({
        name,
        exitCode: null,
        signal: null,
      });
    }
    expect((await fetch(`${p.apiUrl}/v1/health/ready`)).status).toBe(200);
    expect((await fetch(`${p.servingUrl}/v1/health/ready`)).status).toBe(200);
    expect((await fetch(`${p.workerUrl}/health`)).status).toBe(200);
    // The worker's health port too takes a hostile body without falling over.
    const w = await send(p.workerUrl, 'POST', '/health', {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'not gzip',
    });
    expect(w.status).toBeLessThan(500);
    expect((await fetch(`${p.workerUrl}/health`)).status).toBe(200);
    // Serving still predicts, the API still serves the tenant.
    const predicted = await send(p.servingUrl, 'POST', `/v1/deployments/${deploymentId}/predict`, {
      headers: { ...auth, 'content-type': 'image/png' },
      body: await mnistPng(7, 0),
    });
    expect(predicted.status).toBe(200);
    expect(JSON.parse(predicted.text).predictions).toHaveLength(1);
    expect((await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}`, { token: key })).status).toBe(200);
    // The model download zips its artifacts through streams that now all have error listeners: still a zip.
    const download = await call(p.apiUrl, 'POST', `/v1/models/${modelId}/download`, { token: key });
    expect(download.status).toBe(200);
    const zip = Buffer.from(await (await fetch(download.body.url)).arrayBuffer());
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(zip.length).toBe(download.body.sizeBytes);
    // Nothing above was a 500: the logs hold no stack of an unexpected error.
    for (const [name, proc] of [
      ['api', p.api],
      ['serving', p.serving],
    ] as const) {
      const errors = proc
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)|Unexpected end of form|"INTERNAL"/.test(l));
      expect({ name, errors }).toEqual({ name, errors: [] });
    }
  });
});
