/**
 * Request bodies for the API fuzzer: JSON shaped by an operation's schema (with wrong types, missing
 * and extra fields), malformed JSON, multipart forms (well-formed, truncated, broken), bodies under
 * bogus Content-Encodings and charsets, wrong content types, and uploads the client abandons halfway.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { JsonSchema } from './operations';
import {
  deepNesting,
  hostileJson,
  hostileNumberToken,
  hostileString,
  writeJson,
  type JsonTree,
} from './values';

export interface BodySpec {
  /** What the generator meant to send, for the report. */
  kind: string;
  headers: [string, string][];
  bytes: Buffer;
  /** The text before a Content-Encoding was applied (gzip), for the report. */
  plain?: string;
  /** Send only this many bytes (of a declared Content-Length of all of them), then drop the connection. */
  abortAfter?: number;
}

/** Known-good files (an image, an archive) whose real parsing the fuzzer should reach, whole or cut. */
export interface FuzzContext {
  /** Real ids to use as path parameters, by the path segment before the parameter (`jobs` for /v1/jobs/{id}). */
  ids: Record<string, string[]>;
  /** Real query strings (presigned URLs' signatures) by the same path segment, used as sent and mutated. */
  queries?: Record<string, string[]>;
  files: Buffer[];
}

const asTree = (v: unknown): JsonTree => {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return { num: String(v) };
  if (Array.isArray(v)) return { arr: v.map(asTree) };
  if (typeof v === 'object') return { obj: Object.entries(v).map(([k, x]) => [k, asTree(x)]) };
  return null;
};

function plausibleNumber(s: JsonSchema): fc.Arbitrary<JsonTree> {
  const min = s.minimum ?? -1e6;
  const max = s.maximum ?? 1e6;
  const edges = [min, max, min - 1, max + 1, Math.floor((min + max) / 2), min - 0.5, max + 0.5].filter(
    Number.isFinite,
  );
  return fc.oneof(
    fc
      .integer({ min: Math.ceil(Math.max(min, -1e9)), max: Math.floor(Math.min(max, 1e9)) })
      .map((n) => ({ num: String(n) })),
    fc.constantFrom(...edges).map((n) => ({ num: String(n) })),
    hostileNumberToken().map((num) => ({ num })),
    fc.constantFrom('1', '-1', '0', '1e3').map((t) => t as JsonTree), // numbers as strings
  );
}

function plausibleString(s: JsonSchema): fc.Arbitrary<JsonTree> {
  if (s.format === 'date-time' || /At$|After$|Before$/.test(s.format ?? '')) {
    return fc.oneof(
      fc
        .date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
        .map((d) => d.toISOString()),
      hostileString(),
    );
  }
  if (s.format === 'byte') return fc.oneof(fc.base64String({ maxLength: 200 }), hostileString());
  return fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), hostileString());
}

/** A value for `s`: mostly plausible (right type, near the bounds), sometimes anything at all. */
export function jsonFor(s: JsonSchema, depth = 0): fc.Arbitrary<JsonTree> {
  const hostile = depth > 3 ? hostileString() : hostileJson();
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 4, arbitrary: plausible(s, depth) },
    { weight: 1, arbitrary: hostile },
  );
}

function plausible(s: JsonSchema, depth: number): fc.Arbitrary<JsonTree> {
  if (s.enum?.length) {
    const values = s.enum.map(asTree);
    const near = s.enum
      .filter((e): e is string => typeof e === 'string')
      .flatMap((e) => [e.toLowerCase(), e.toUpperCase(), `${e}\u0000`, ` ${e}`]);
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...values) },
      { weight: 1, arbitrary: near.length ? fc.constantFrom(...near) : fc.constant(null) },
    );
  }
  switch (s.type ?? 'any') {
    case 'object':
      return objectFor(s, depth);
    case 'array': {
      const item = jsonFor(s.items ?? {}, depth + 1);
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(item, { maxLength: 5 }).map((arr) => ({ arr })) },
        // Long arrays of small items (an item of 70,000 characters 20,000 times would be a 1.4 GB body).
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.constantFrom<JsonTree>(null, { num: '1' }, 'x', { obj: [] }, { arr: [] }),
              fc.integer({ min: 100, max: 20_000 }),
            )
            .map(([x, n]) => ({ arr: Array<JsonTree>(n).fill(x) })),
        },
      );
    }
    case 'number':
    case 'integer':
      return plausibleNumber(s);
    case 'boolean':
      return fc.constantFrom<JsonTree>(true, false, 'true', { num: '1' }, 'yes');
    case 'string':
      return plausibleString(s);
    default:
      return hostileJson();
  }
}

const extraKey = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'tenantId', 'extra'),
    hostileString(),
  );

/** An object for `s`: required members usually there, optional ones half the time, sometimes extra (or duplicate) members. */
function objectFor(s: JsonSchema, depth: number): fc.Arbitrary<JsonTree> {
  const props = Object.entries(s.properties ?? {}).filter(([, p]) => p.format !== 'binary');
  const required = new Set(s.required ?? []);
  const members = props.map(([name, p]) =>
    fc.option(
      jsonFor(p, depth + 1).map((v): [string, JsonTree] => [name, v]),
      { freq: required.has(name) ? 12 : 2, nil: undefined },
    ),
  );
  const extras = fc.oneof(
    { withCrossShrink: true },
    { weight: 4, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(extraKey(), hostileJson()), { minLength: 1, maxLength: 3 }) },
  );
  return fc
    .tuple(fc.tuple(...members), extras)
    .map(([ms, ex]) => ({ obj: [...ms.filter((m): m is [string, JsonTree] => m !== undefined), ...ex] }));
}

// ---------- encodings of a JSON text ----------

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/json; charset=UTF-8; foo=bar',
];
const BAD_CHARSETS = ['utf-16', 'utf-16le', 'latin1', 'iso-8859-1', 'bogus-8', 'utf-7', '"utf-8"', ''];

function jsonBody(schema: JsonSchema): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(
      fc.oneof({ weight: 5, arbitrary: jsonFor(schema) }, { weight: 1, arbitrary: deepNesting() }),
      fc.constantFrom(...JSON_TYPES),
    )
    .map(([tree, type]) => ({
      kind: 'json',
      headers: [['content-type', type]],
      bytes: Buffer.from(writeJson(tree), 'utf8'),
    }));
}

const MALFORMED_JSON = [
  '',
  ' ',
  'null',
  '[]',
  '"text"',
  '1',
  '{',
  '}',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":undefined}',
  '/*c*/{}',
  '{"a":1}{"b":2}',
  '{"a":"\\u12"}',
  '{"a":"\\x41"}',
  '\u0000{}',
  '{"\u0000":1}',
  '{"a":1e99999}',
  '[' + '1,'.repeat(5000) + '1]',
];

function malformedJson(schema: JsonSchema): fc.Arbitrary<BodySpec> {
  const fromSchema = fc
    .tuple(
      jsonFor(schema),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom('cut', 'garbage', 'bytes', 'bom', 'utf16'),
    )
    .map(([tree, at, how]) => {
      const text = Buffer.from(writeJson(tree), 'utf8');
      const i = Math.floor(at * text.length);
      switch (how) {
        case 'cut':
          return { kind: `json cut at ${i}`, bytes: text.subarray(0, i) };
        case 'garbage':
          return {
            kind: 'json with trailing garbage',
            bytes: Buffer.concat([text, Buffer.from('\u0000}]garbage')]),
          };
        case 'bytes':
          return {
            kind: `json with invalid UTF-8 at ${i}`,
            bytes: Buffer.concat([
              text.subarray(0, i),
              Buffer.from([0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
              text.subarray(i),
            ]),
          };
        case 'bom':
          return { kind: 'json after a BOM', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]) };
        case 'utf16':
          return {
            kind: 'json in UTF-16LE labelled JSON',
            bytes: Buffer.from(text.toString('utf8'), 'utf16le'),
          };
      }
    });
  const fixed = fc
    .constantFrom(...MALFORMED_JSON)
    .map((t) => ({ kind: 'malformed json', bytes: Buffer.from(t, 'utf8') }));
  return fc
    .tuple(fc.oneof(fromSchema, fixed), fc.constantFrom(...JSON_TYPES))
    .map(([b, type]) => ({ ...b, headers: [['content-type', type]] }));
}

function encodedBody(schema: JsonSchema): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(
      jsonFor(schema),
      fc.constantFrom(
        'gzip-real',
        'gzip-fake',
        'deflate-fake',
        'br-fake',
        'bogus',
        'gzip, gzip',
        'identity',
        'charset',
      ),
    )
    .chain(([tree, how]) => {
      const text = Buffer.from(writeJson(tree), 'utf8');
      const json: [string, string] = ['content-type', 'application/json'];
      switch (how) {
        case 'gzip-real':
          return fc.constant<BodySpec>({
            kind: 'gzipped json',
            headers: [json, ['content-encoding', 'gzip']],
            bytes: gzipSync(text),
            plain: text.toString('utf8'),
          });
        case 'gzip-fake':
          return fc.constant<BodySpec>({
            kind: 'plain json labelled gzip',
            headers: [json, ['content-encoding', 'gzip']],
            bytes: text,
          });
        case 'deflate-fake':
          return fc.constant<BodySpec>({
            kind: 'plain json labelled deflate',
            headers: [json, ['content-encoding', 'deflate']],
            bytes: text,
          });
        case 'br-fake':
          return fc.constant<BodySpec>({
            kind: 'plain json labelled br',
            headers: [json, ['content-encoding', 'br']],
            bytes: text,
          });
        case 'charset':
          return fc.constantFrom(...BAD_CHARSETS).map((c): BodySpec => ({
            kind: `json with charset ${c}`,
            headers: [['content-type', `application/json; charset=${c}`]],
            bytes: text,
          }));
        case 'bogus':
        case 'gzip, gzip':
        case 'identity':
          return fc.constant<BodySpec>({
            kind: `json with content-encoding ${how}`,
            headers: [json, ['content-encoding', how]],
            bytes: text,
          });
      }
    });
}

const WRONG_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/mixed; boundary=x',
  'application/octet-stream',
  'image/png',
  '*/*',
  'application/',
  ';',
  'application/json, text/plain',
  'text/html; charset=utf-8',
];

function wrongType(schema: JsonSchema): fc.Arbitrary<BodySpec> {
  const payload = fc.oneof(
    jsonFor(schema).map((t) => Buffer.from(writeJson(t), 'utf8')),
    fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
    fc
      .constantFrom('a=1&b[c]=2&__proto__[x]=1', 'a'.repeat(10) + '=' + '&x=1'.repeat(3000), '%zz=%', '=&=&&')
      .map((t) => Buffer.from(t)),
  );
  return fc
    .tuple(payload, fc.oneof(fc.constantFrom(...WRONG_TYPES), latin1Header()))
    .map(([bytes, type]) => ({
      kind: `body as ${JSON.stringify(type)}`,
      headers: [['content-type', type]],
      bytes,
    }));
}

// ---------- multipart ----------

interface Part {
  name: string;
  filename?: string;
  type?: string;
  data: Buffer;
}

const CRLF = '\r\n';

function writeMultipart(parts: Part[], boundary: string, closed: boolean, eol = CRLF): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const head = `--${boundary}${eol}Content-Disposition: ${disposition}${eol}${p.type ? `Content-Type: ${p.type}${eol}` : ''}${eol}`;
    chunks.push(Buffer.from(head, 'utf8'), p.data, Buffer.from(eol));
  }
  if (closed) chunks.push(Buffer.from(`--${boundary}--${eol}`));
  return Buffer.concat(chunks);
}

/** File contents: a real sample (whole or cut), random bytes, or an archive/image magic number followed by garbage. */
function fileData(ctx: FuzzContext): fc.Arbitrary<Buffer> {
  const magic = fc.tuple(
    fc.constantFrom(
      [0x50, 0x4b, 0x03, 0x04],
      [0x1f, 0x8b, 0x08],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [0xff, 0xd8, 0xff],
      [0x50, 0x4b, 0x05, 0x06],
    ),
    fc.uint8Array({ maxLength: 300 }),
  );
  return fc.oneof(
    ...(ctx.files.length
      ? [
          fc.constantFrom(...ctx.files),
          fc
            .tuple(fc.constantFrom(...ctx.files), fc.double({ min: 0, max: 1, noNaN: true }))
            .map(([f, at]) => f.subarray(0, Math.floor(f.length * at))),
        ]
      : []),
    fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
    magic.map(([m, rest]) => Buffer.concat([Buffer.from(m), Buffer.from(rest)])),
    fc.constant(Buffer.alloc(0)),
  );
}

const fieldText = (s: JsonSchema): fc.Arbitrary<string> =>
  jsonFor(s).map((t) => (typeof t === 'string' ? t : writeJson(t)));

function multipartBody(schema: JsonSchema, ctx: FuzzContext): fc.Arbitrary<BodySpec> {
  const props = Object.entries(schema.properties ?? {});
  const fileNames = props.filter(([, p]) => p.format === 'binary').map(([n]) => n);
  const fields = props
    .filter(([, p]) => p.format !== 'binary')
    .map(([name, p]) =>
      fc.option(
        fieldText(p).map((v): Part => ({ name, data: Buffer.from(v, 'utf8') })),
        { freq: 2, nil: undefined },
      ),
    );
  const file = fc.record({
    name: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...(fileNames.length ? fileNames : ['file'])) },
      { weight: 1, arbitrary: hostileString() },
    ),
    filename: fc.oneof(
      fc.constantFrom(
        'data.zip',
        'a.png',
        'x.csv',
        '../../../etc/passwd',
        'a\u0000.zip',
        '',
        '\u202egpj.exe',
        '\ud800.zip',
        '"quoted".zip',
      ),
      hostileString(),
    ),
    type: fc.constantFrom(
      'application/zip',
      'image/png',
      'application/gzip',
      'text/csv',
      'application/octet-stream',
      'x/\u0000',
    ),
    data: fileData(ctx),
  });
  const extra = fc.oneof(
    { withCrossShrink: true },
    { weight: 6, arbitrary: fc.constant<Part[]>([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.record({ name: hostileString(), data: hostileString().map((s) => Buffer.from(s, 'utf8')) }),
        { minLength: 1, maxLength: 3 },
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 31, max: 200 })
        .map((n) => [...Array(n).keys()].map((i) => ({ name: `f${i}`, data: Buffer.from('x') }))),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 17 * 1024, max: 200 * 1024 })
        .map((n) => [{ name: 'format', data: Buffer.alloc(n, 'a') }]),
    },
  );
  const boundary = fc.oneof(
    { weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{8,40}$/).map((s) => `----fuzz${s}`) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(200), 'a b', '"', '--', 'é') },
  );
  const shape = fc.constantFrom(
    'ok',
    'ok',
    'ok',
    'cut',
    'unclosed',
    'other-boundary',
    'no-boundary',
    'lf',
    'file-first',
    'two-files',
    'no-file',
    'quoted-boundary',
  );
  return fc
    .tuple(fc.tuple(...fields), file, extra, boundary, shape, fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([fs, f, ex, b, how, at]) => {
      const texts = [...fs.filter((p): p is Part => p !== undefined), ...ex];
      let parts = [...texts, f];
      if (how === 'file-first') parts = [f, ...texts];
      if (how === 'two-files') parts = [...texts, f, f];
      if (how === 'no-file') parts = texts;
      let bytes = writeMultipart(parts, b, how !== 'unclosed', how === 'lf' ? '\n' : CRLF);
      if (how === 'cut') bytes = bytes.subarray(0, Math.floor(bytes.length * at));
      const type =
        how === 'other-boundary'
          ? 'multipart/form-data; boundary=somethingelse'
          : how === 'no-boundary'
            ? 'multipart/form-data'
            : how === 'quoted-boundary'
              ? `multipart/form-data; boundary="${b}"`
              : `multipart/form-data; boundary=${b}`;
      return { kind: `multipart (${how})`, headers: [['content-type', type]], bytes };
    });
}

// ---------- raw bodies (serving's image/* and octet-stream) and abandoned uploads ----------

function rawBody(types: string[], ctx: FuzzContext): fc.Arbitrary<BodySpec> {
  const raw = types.filter((t) => t.startsWith('image/') || t === 'application/octet-stream');
  return fc
    .tuple(fileData(ctx), fc.constantFrom(...(raw.length ? raw : ['application/octet-stream'])))
    .map(([bytes, type]) => ({ kind: `raw ${type}`, headers: [['content-type', type]], bytes }));
}

function abandoned(inner: fc.Arbitrary<BodySpec>): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(inner, fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([b, at]) => ({ ...b, kind: `${b.kind}, abandoned`, abortAfter: Math.floor(b.bytes.length * at) }));
}

/** Header values Node's client can send: latin1 without control characters other than tab (hostile text as its UTF-8 bytes). */
export function latin1Header(): fc.Arbitrary<string> {
  return hostileString().map((s) =>
    Buffer.from(s, 'utf8')
      .toString('latin1')
      .replace(/[^\t\x20-\x7e\x80-\xff]/g, '')
      .slice(0, 4_000),
  );
}

/** Every kind of body for an operation with `types` and `schema`. */
export function bodyFor(types: string[], schema: JsonSchema, ctx: FuzzContext): fc.Arbitrary<BodySpec> {
  const multipart = types.some((t) => t.startsWith('multipart/'));
  const json = types.some((t) => t.includes('json'));
  const main = multipart ? multipartBody(schema, ctx) : jsonBody(schema);
  const arbs: fc.WeightedArbitrary<BodySpec>[] = [
    { weight: 8, arbitrary: main },
    { weight: multipart ? 2 : 1, arbitrary: multipart ? jsonBody(schema) : multipartBody(schema, ctx) },
    { weight: 2, arbitrary: malformedJson(schema) },
    { weight: 1, arbitrary: encodedBody(schema) },
    { weight: 1, arbitrary: wrongType(schema) },
    { weight: 1, arbitrary: abandoned(main) },
  ];
  if (json && multipart) arbs.push({ weight: 3, arbitrary: jsonBody(schema) });
  if (types.some((t) => t.startsWith('image/') || t === 'application/octet-stream'))
    arbs.push({ weight: 2, arbitrary: rawBody(types, ctx) });
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}
