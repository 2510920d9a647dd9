/**
 * Hostile values for the API fuzzer (fast-check arbitraries): strings with control characters, odd
 * Unicode and number-like text, numbers at and past every bound, deep nesting, wrong types, and JSON
 * written token by token so that it can carry what JSON.stringify never writes (1e999, -0, duplicate
 * and `__proto__` members).
 */
import fc from 'fast-check';

/** A JSON value as the fuzzer writes it: numbers as raw tokens, objects as member lists (duplicates allowed). */
export type JsonTree =
  | null
  | boolean
  | string
  | { num: string }
  | { arr: JsonTree[] }
  | { obj: [string, JsonTree][] }
  | { nest: number; arrays: boolean };

/** Writes a tree as JSON text; strings through JSON.stringify (lone surrogates become \udXXX escapes). */
export function writeJson(t: JsonTree): string {
  if (t === null || typeof t === 'boolean') return String(t);
  if (typeof t === 'string') return JSON.stringify(t);
  if ('num' in t) return t.num;
  if ('arr' in t) return `[${t.arr.map(writeJson).join(',')}]`;
  if ('nest' in t)
    return t.arrays
      ? `${'['.repeat(t.nest)}"x"${']'.repeat(t.nest)}`
      : `${'{"a":'.repeat(t.nest)}"x"${'}'.repeat(t.nest)}`;
  return `{${t.obj.map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`).join(',')}}`;
}

const CONTROL = [...Array(32).keys()]
  .map((c) => String.fromCharCode(c))
  .concat('\u007f', '\u0085', '\u2028', '\u2029');
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b'];
const ODD_UNICODE = [
  '\u202e\u0645\u0631\u062d\u0628\u0627', // RTL override + Arabic
  '\u05e9\u05dc\u05d5\u05dd\u200f', // Hebrew + RLM
  `Z${'\u0301\u0336\u0344'.repeat(40)}`, // stacked combining marks
  '\u0041\u030a\u212b\u00c5', // the same letter, composed and not
  '\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66', // ZWJ family
  '\ud83c\uddfa\ud83c\uddf3\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc7f', // flags, tag sequences
  '\ufeff\u200b\u200c\u200d\u2060', // BOM and zero-width characters
  '\uff41\uff44\uff4d\uff49\uff4e', // fullwidth
  '\ufffd\ufffe\uffff', // replacement and non-characters
  '\u{10ffff}\u{e0001}', // last code point, language tag
  '\u0130\u0131\u00df\ufb03', // case-mapping oddities
];
const NUMBER_LIKE = [
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1e309',
  '1e-400',
  '-0',
  '0x1f',
  '0b101',
  '0o17',
  '1_000',
  ' 1 ',
  '1.',
  '.5',
  '+5',
  '١٢٣',
  '9'.repeat(400),
  '0'.repeat(50) + '1',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '',
];
const DATE_LIKE = [
  '0000-01-01',
  '0000-00-00T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '+275760-09-13T00:00:00.001Z',
  '9999-12-31T23:59:59.999Z',
  '10000-01-01',
  '1969-12-31T23:59:59Z',
  '1970-01-01T00:00:00Z',
  '2020-02-30',
  '2024-13-01',
  'yesterday',
  '2001-01-01T00:00:00+25:00',
];
const INJECTION = [
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '%2e%2e%2f',
  "' OR '1'='1' --",
  '"; DROP TABLE jobs; --',
  '${7*7}',
  '{{7*7}}',
  '%s%s%n',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '$where',
  '\\u0000',
  'msk_',
];

/** Strings meant to break validation, storage and logging. */
export function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { withCrossShrink: true },
    fc.constantFrom(...CONTROL.map((c) => `a${c}b`), '\u0000', '\u0000'.repeat(3), 'x\r\nSet-Cookie: a=b'),
    fc.constantFrom(...LONE_SURROGATES, ...ODD_UNICODE),
    fc.constantFrom(...NUMBER_LIKE, ...DATE_LIKE, ...INJECTION),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc
      .array(fc.constantFrom(...CONTROL, ...LONE_SURROGATES, ...ODD_UNICODE, 'a', ' ', '/', '%'), {
        maxLength: 30,
      })
      .map((a) => a.join('')),
    // Long: past every column's length, but under the 1 MiB body limit.
    fc
      .tuple(
        fc.constantFrom('a', '\u0000', '\ud83d\ude00', '\u0301', 'é'),
        fc.integer({ min: 1, max: 70_000 }),
      )
      .map(([c, n]) => c.repeat(n)),
  );
}

/** Number tokens at and past every bound, including ones JSON.parse turns into Infinity or -0. */
export function hostileNumberToken(): fc.Arbitrary<string> {
  return fc.oneof(
    { withCrossShrink: true },
    fc.constantFrom(
      '0',
      '-0',
      '-1',
      '1',
      '0.5',
      '-0.5',
      '2147483647',
      '2147483648',
      '-2147483649',
      '4294967296',
      '9007199254740993',
      '-9007199254740993',
      '1e15',
      '1e20',
      '1e308',
      '-1e308',
      '1e309',
      '-1e999',
      '5e-324',
      '1e-400',
      '123456789012345678901234567890',
      '1.0000000000000002',
      '1E2',
      '1e+2',
    ),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? '-0' : String(d))),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  );
}

/** Nested arrays or objects (`[[["x"]]]`, `{"a":{"a":"x"}}`), up to 5,000 levels. */
export function deepNesting(): fc.Arbitrary<JsonTree> {
  return fc.record({ nest: fc.integer({ min: 20, max: 5_000 }), arrays: fc.boolean() });
}

/** Any JSON value, small, from hostile leaves. */
export function hostileJson(): fc.Arbitrary<JsonTree> {
  const { tree } = fc.letrec<{ tree: JsonTree; leaf: JsonTree }>((tie) => ({
    leaf: fc.oneof(
      fc.constant(null),
      fc.boolean(),
      hostileString(),
      hostileNumberToken().map((num) => ({ num })),
    ),
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('leaf'),
      fc.array(tie('tree'), { maxLength: 4 }).map((arr) => ({ arr })),
      fc
        .array(fc.tuple(fc.oneof(hostileString(), fc.string({ maxLength: 8 })), tie('tree')), {
          maxLength: 4,
        })
        .map((obj) => ({ obj })),
    ),
  }));
  return fc.oneof({ weight: 6, arbitrary: tree }, { weight: 1, arbitrary: deepNesting() });
}
