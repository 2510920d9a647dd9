import { generateApiKey, hashKey, keyMatchesHash, parseApiKey, tokensEqual } from './api-key-format';

describe('api key format', () => {
  it('generates recognizable, unique keys whose hash verifies', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^msk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(a.key.startsWith(a.prefix + '_')).toBe(true);
    expect(a.key).not.toBe(b.key);
    expect(a.secretHash).not.toContain(a.key);
    expect(keyMatchesHash(a.key, a.secretHash)).toBe(true);
    expect(keyMatchesHash(b.key, a.secretHash)).toBe(false);
  });

  it('stores keys as their SHA-256 in hex, so hashes stored by any earlier version keep matching', () => {
    // FIPS 180-2 test vector.
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(keyMatchesHash('abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')).toBe(
      true,
    );
  });

  it('parses only well-formed keys', () => {
    const { key, prefix } = generateApiKey();
    expect(parseApiKey(key)).toBe(prefix);
    expect(parseApiKey(key.slice(0, -1))).toBeNull();
    expect(parseApiKey('Bearer ' + key)).toBeNull();
    expect(parseApiKey('')).toBeNull();
  });

  it('compares tokens of different lengths safely', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
  });
});
