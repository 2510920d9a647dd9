/**
 * A whole hostile request for one operation: odd path parameters, query strings and headers, a good,
 * missing or malformed credential, and a body from bodies.ts. Requests stay symbolic where that makes
 * a shrunk counterexample readable (the credential is `<valid>` until it is sent).
 */
import fc from 'fast-check';
import { bodyFor, latin1Header, type BodySpec, type FuzzContext } from './bodies';
import { opKey, type Operation, type Param } from './operations';
import { hostileNumberToken, hostileString, writeJson } from './values';
import { jsonFor } from './bodies';

/** The credential a request carries: the operation's valid one, none, a raw header value, or the valid one mangled. */
export type Auth =
  | { kind: 'valid' }
  | { kind: 'none' }
  | { kind: 'raw'; value: string }
  | {
      kind: 'mangled';
      how: 'truncated' | 'appended' | 'lowercase-scheme' | 'no-scheme' | 'twice' | 'flipped';
      extra: string;
    };

export interface FuzzRequest {
  /** `METHOD /template` of the operation. */
  op: string;
  app: Operation['app'];
  method: string;
  /** Path and query as sent: already percent-encoded where the generator meant it. */
  target: string;
  headers: [string, string][];
  auth: Auth;
  body?: BodySpec;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodes a string's UTF-8 bytes (lone surrogates become U+FFFD), leaving unreserved characters. */
export function encodeBytes(s: string | Buffer): string {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const ODD_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F%2E%2E',
  '..%2F..%2Fetc%2Fpasswd',
  '%2F',
  '%00',
  'a%00b',
  '%0d%0aSet-Cookie:%20x',
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AE%C0%AE',
  '%ED%A0%80',
  '%FF%FE',
  '\u00e9', // a raw latin1 byte: invalid UTF-8 in the request line
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '0',
  '-1',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  '%5B%5D',
  '%7B%7D',
  '*',
];

/** A path segment: encoded hostile text, a hand-made oddity, or very long. */
export function hostileSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 3, arbitrary: hostileString().map((s) => encodeBytes(s).slice(0, 4_000)) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_SEGMENTS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('a', '%00', '%F0%9F%98%80', '..%2F'), fc.integer({ min: 1, max: 6_000 }))
        .map(([s, n]) => s.repeat(n).slice(0, 20_000)),
    },
  );
}

/** Segments for a wildcard parameter (an object key): several segments, traversal, encoded and raw slashes. */
function hostileKey(): fc.Arbitrary<string> {
  return fc.oneof(
    { withCrossShrink: true },
    fc.array(hostileSegment(), { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
    fc.constantFrom(
      '../../../../etc/passwd',
      'a/../../b',
      '..%2F..%2Fsecret',
      'tenants/other/models/x/model.json',
      '/',
      '//',
      'a//b',
      '%2e%2e/%2e%2e/x',
      'a/./b',
      'tenants',
      '',
    ),
  );
}

/** The path segment before the last parameter (`jobs` for `/v1/jobs/{id}`): the key of real ids and queries. */
export function resourceOf(template: string): string {
  const at = template.lastIndexOf('{');
  return (at === -1 ? '' : template.slice(0, at)).split('/').filter(Boolean).pop() ?? '';
}

function pathFor(op: Operation, ctx: FuzzContext): fc.Arbitrary<string> {
  const pieces = op.path.split(/(\{[^}]+\})/).filter(Boolean);
  const arbs = pieces.map((piece, i) => {
    if (!piece.startsWith('{')) return fc.constant(piece);
    const real = ctx.ids[resourceOf(pieces.slice(0, i + 1).join(''))] ?? [];
    const wildcard = op.params.some((p) => p.wildcard && `{${p.name}}` === piece);
    const hostile = wildcard ? fc.oneof(hostileSegment(), hostileKey()) : hostileSegment();
    return real.length
      ? fc.oneof(
          { withCrossShrink: true },
          { weight: 3, arbitrary: fc.constantFrom(...real) },
          { weight: 4, arbitrary: hostile },
        )
      : hostile;
  });
  const suffix = fc.constantFrom('', '', '', '', '', '/', '//', '/..', '/%2e', '.json', ';a=b');
  return fc.tuple(fc.tuple(...arbs), suffix).map(([parts, s]) => parts.join('') + s);
}

function queryValue(p: Param): fc.Arbitrary<string> {
  const plausible = jsonFor(p.schema).map((t) =>
    encodeBytes(
      typeof t === 'string' ? t : typeof t === 'object' && t !== null && 'num' in t ? t.num : writeJson(t),
    ).slice(0, 4_000),
  );
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 4, arbitrary: plausible },
    { weight: 2, arbitrary: hostileNumberToken().map(encodeBytes) },
    { weight: 1, arbitrary: fc.constantFrom('', '%', '%zz', '%00', '%FF', 'a%26b%3Dc', '%5B%5D') },
  );
}

/** A real query string (a presigned URL's) as sent, or with a character flipped, a member dropped, doubled or replaced. */
function mutatedQuery(real: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(...real),
      fc.constantFrom('as-is', 'flip', 'drop', 'double', 'replace'),
      fc.nat(),
      fc.oneof(hostileNumberToken(), hostileString()),
    )
    .map(([q, how, n, v]) => {
      const pairs = q.split('&');
      const i = n % pairs.length;
      const name = pairs[i].split('=')[0];
      switch (how) {
        case 'as-is':
          return q;
        case 'flip': {
          const at = n % q.length;
          return q.slice(0, at) + (q[at] === 'a' ? 'b' : 'a') + q.slice(at + 1);
        }
        case 'drop':
          return pairs.filter((_, j) => j !== i).join('&');
        case 'double':
          return `${q}&${name}=${encodeBytes(v).slice(0, 2_000)}`;
        case 'replace':
          return pairs.map((p, j) => (j === i ? `${name}=${encodeBytes(v).slice(0, 2_000)}` : p)).join('&');
      }
    });
}

function queryFor(op: Operation, ctx: FuzzContext): fc.Arbitrary<string> {
  const real = ctx.queries?.[resourceOf(op.path)] ?? [];
  const generated = generatedQuery(op);
  if (!real.length) return generated;
  return fc.oneof(
    { weight: 2, arbitrary: generated },
    { weight: 3, arbitrary: mutatedQuery(real).map((q) => `?${q}`) },
  );
}

function generatedQuery(op: Operation): fc.Arbitrary<string> {
  const own = op.params
    .filter((p) => p.in === 'query')
    .map((p) =>
      fc.option(
        fc
          .array(queryValue(p), { minLength: 1, maxLength: 3 })
          .map((vs) => vs.map((v) => `${encodeBytes(p.name)}=${v}`)),
        { freq: 2, nil: undefined },
      ),
    );
  const extra = fc.oneof(
    { withCrossShrink: true },
    { weight: 6, arbitrary: fc.constant<string[]>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc
          .tuple(hostileString(), hostileString())
          .map(([k, v]) => `${encodeBytes(k).slice(0, 2_000)}=${encodeBytes(v).slice(0, 2_000)}`),
        { minLength: 1, maxLength: 3 },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ['limit[a]=1'],
        ['__proto__[x]=1'],
        ['a'],
        ['='],
        ['&&&'],
        ['limit=1;cursor=2'],
        Array<string>(1200).fill('x=1'),
      ),
    },
  );
  return fc.tuple(fc.tuple(...own), extra).map(([o, e]) => {
    const pairs = [...o.flatMap((x) => x ?? []), ...e];
    return pairs.length ? `?${pairs.join('&')}` : '';
  });
}

function headersFor(op: Operation): fc.Arbitrary<[string, string][]> {
  const own = op.params
    .filter((p) => p.in === 'header')
    .map((p) =>
      fc.option(
        fc.oneof(hostileNumberToken(), latin1Header()).map((v): [string, string] => [p.name, v]),
        { freq: 2, nil: undefined },
      ),
    );
  const extra = fc.array(
    fc.tuple(
      fc.constantFrom(
        'x-request-id',
        'accept',
        'accept-encoding',
        'accept-language',
        'if-none-match',
        'range',
        'x-forwarded-for',
        'origin',
        'cookie',
        'expect',
      ),
      latin1Header(),
    ),
    { maxLength: 2 },
  );
  return fc
    .tuple(fc.tuple(...own), extra)
    .map(([o, e]) => [...o.filter((h): h is [string, string] => h !== undefined), ...e]);
}

function authFor(op: Operation): fc.Arbitrary<Auth> {
  const raw = fc
    .oneof(
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        'Bearer msk_',
        'Bearer msk_00000000_' + 'x'.repeat(43),
        'Bearer adm_',
        'Digest x',
        'Bearer \u00ff\u00fe',
      ),
      latin1Header().map((v) => `Bearer ${v}`),
      latin1Header(),
    )
    .map((value): Auth => ({ kind: 'raw', value }));
  const mangled = fc
    .tuple(
      fc.constantFrom<Extract<Auth, { kind: 'mangled' }>['how']>(
        'truncated',
        'appended',
        'lowercase-scheme',
        'no-scheme',
        'twice',
        'flipped',
      ),
      latin1Header(),
    )
    .map(([how, extra]): Auth => ({ kind: 'mangled', how, extra }));
  const valid = fc.constant<Auth>({ kind: 'valid' });
  if (op.credential === 'none')
    return fc.oneof(
      { withCrossShrink: true },
      { weight: 4, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
      { weight: 1, arbitrary: raw },
    );
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 12, arbitrary: valid },
    { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
    { weight: 1, arbitrary: raw },
    { weight: 1, arbitrary: mangled },
  );
}

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Requests for `op`: its path parameters, query, headers, credential and (for methods with one) body. */
export function requestFor(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const body: fc.Arbitrary<BodySpec | undefined> = WITH_BODY.has(op.method)
    ? op.body
      ? bodyFor(op.body.types, op.body.schema, ctx)
      : fc.oneof(
          { withCrossShrink: true },
          { weight: 3, arbitrary: fc.constant(undefined) },
          {
            weight: 2,
            arbitrary: bodyFor(['application/json', 'multipart/form-data'], { type: 'object' }, ctx),
          },
        )
    : fc.oneof(
        { withCrossShrink: true },
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: bodyFor(['application/json'], { type: 'object' }, ctx) },
      );
  return fc
    .record({
      path: pathFor(op, ctx),
      query: queryFor(op, ctx),
      headers: headersFor(op),
      auth: authFor(op),
      body,
    })
    .map(({ path, query, headers, auth, body: b }) => ({
      op: opKey(op),
      app: op.app,
      method: op.method,
      target: path + query,
      headers,
      auth,
      ...(b ? { body: b } : {}),
    }));
}

/** The Authorization header value of `auth` given the operation's valid token (undefined: no header). */
export function authorization(auth: Auth, token: string | undefined): string | undefined {
  const valid = token ?? '';
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'valid':
      return token ? `Bearer ${token}` : undefined;
    case 'raw':
      return auth.value;
    case 'mangled':
      switch (auth.how) {
        case 'truncated':
          return `Bearer ${valid.slice(0, Math.max(0, valid.length - 1 - (auth.extra.length % 8)))}`;
        case 'appended':
          return `Bearer ${valid}${auth.extra}`;
        case 'lowercase-scheme':
          return `bearer ${valid}`;
        case 'no-scheme':
          return valid;
        case 'twice':
          return `Bearer ${valid}, Bearer ${valid}`;
        case 'flipped': {
          const i = auth.extra.length % Math.max(1, valid.length);
          return `Bearer ${valid.slice(0, i)}${valid[i] === 'a' ? 'b' : 'a'}${valid.slice(i + 1)}`;
        }
      }
  }
}
