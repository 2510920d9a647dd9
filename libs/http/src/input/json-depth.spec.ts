import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const nestedObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const nestedArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('jsonDepthExceeds', () => {
  it('measures objects and arrays alike, at the limit and one past it', () => {
    for (const nested of [nestedObjects, nestedArrays]) {
      expect(jsonDepthExceeds(bytes(nested(5)), 5)).toBe(false);
      expect(jsonDepthExceeds(bytes(nested(6)), 5)).toBe(true);
    }
    expect(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 4)).toBe(false);
    expect(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 3)).toBe(true);
  });

  it('counts depth, not the number of containers', () => {
    const wide = `[${Array.from({ length: 10_000 }, () => '{"x":[1,2]}').join(',')}]`;
    expect(jsonDepthExceeds(bytes(wide), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes(wide), 2)).toBe(true);
  });

  it('ignores brackets and braces inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(bytes(JSON.stringify({ s: '[[[[{{{{' })), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes(JSON.stringify({ s: 'say \\"[[[[\\" and "{{{{"' })), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes(JSON.stringify({ s: 'ends with a backslash \\', t: [[1]] })), 2)).toBe(
      true,
    );
  });

  it('reads multi-byte UTF-8 text without miscounting', () => {
    const text = JSON.stringify({ name: 'fleurs 🌸 日本語 ümlaut [', tags: [['x']] });
    expect(jsonDepthExceeds(bytes(text), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes(text), 2)).toBe(true);
  });

  it('finds the 20,000-deep document of the report quickly, and passes ordinary bodies', () => {
    const started = process.hrtime.bigint();
    expect(jsonDepthExceeds(bytes(nestedObjects(20_000)), MAX_JSON_DEPTH)).toBe(true);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
    expect(
      jsonDepthExceeds(
        bytes(
          JSON.stringify({ task: 'image-classification', options: { epochs: 3 }, budget: { maxMinutes: 5 } }),
        ),
        MAX_JSON_DEPTH,
      ),
    ).toBe(false);
  });
});
