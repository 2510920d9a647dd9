import { ObjectUrlRefused, ObjectUrlSigner, pathToKey } from './url-signer';

const secret = 'k'.repeat(40);
const now = Date.UTC(2026, 0, 1);
const nowS = now / 1000;

function parts(url: string): { key: string; query: URLSearchParams } {
  const u = new URL(url);
  return { key: pathToKey(u.pathname.slice('/v1/objects/'.length)) ?? '', query: u.searchParams };
}

describe('ObjectUrlSigner', () => {
  const signer = new ObjectUrlSigner(secret, 'https://ms.example.com/');

  it('signs a GET URL under the API base URL that verifies back to the same grant', () => {
    const url = signer.sign({
      method: 'GET',
      key: 'tenants/t/models/m/a b.zip',
      expires: nowS + 60,
      downloadName: 'a "b".zip',
    });
    expect(url.startsWith('https://ms.example.com/v1/objects/tenants/t/models/m/a%20b.zip?')).toBe(true);
    const { key, query } = parts(url);
    expect(signer.verify('GET', key, query, now)).toEqual({
      method: 'GET',
      key: 'tenants/t/models/m/a b.zip',
      expires: nowS + 60,
      downloadName: 'a "b".zip',
    });
  });

  it('binds the method, the key, the expiry, the name and the secret', () => {
    const { key, query } = parts(signer.sign({ method: 'GET', key: 'a/b', expires: nowS + 60 }));
    expect(() => signer.verify('PUT', key, query, now)).toThrow(ObjectUrlRefused);
    expect(() => signer.verify('HEAD', key, query, now)).toThrow(ObjectUrlRefused);
    expect(() => signer.verify('GET', 'a/c', query, now)).toThrow(/signature does not match/);
    const later = new URLSearchParams(query);
    later.set('expires', String(nowS + 120));
    expect(() => signer.verify('GET', key, later, now)).toThrow(/signature does not match/);
    const named = new URLSearchParams(query);
    named.set('filename', 'evil.html');
    expect(() => signer.verify('GET', key, named, now)).toThrow(/signature does not match/);
    expect(() =>
      new ObjectUrlSigner('z'.repeat(40), 'https://ms.example.com').verify('GET', key, query, now),
    ).toThrow(/signature does not match/);
  });

  it('refuses expired URLs and expiries beyond the longest lifetime', () => {
    const { key, query } = parts(signer.sign({ method: 'GET', key: 'a/b', expires: nowS - 1 }));
    expect(() => signer.verify('GET', key, query, now)).toThrow(/expired/);
    const far = parts(signer.sign({ method: 'GET', key: 'a/b', expires: nowS + 30 * 86_400 }));
    expect(() => signer.verify('GET', far.key, far.query, now)).toThrow(/beyond/);
  });

  it('refuses unknown, repeated and malformed parameters and signatures', () => {
    const { key, query } = parts(signer.sign({ method: 'GET', key: 'a/b', expires: nowS + 60 }));
    const extra = new URLSearchParams(query);
    extra.set('list-type', '2');
    expect(() => signer.verify('GET', key, extra, now)).toThrow(/unexpected parameter/);
    const twice = new URLSearchParams(query);
    twice.append('expires', String(nowS + 60));
    expect(() => signer.verify('GET', key, twice, now)).toThrow(/more than once/);
    for (const sig of ['', '0'.repeat(43), 'A'.repeat(43), 'short', '!'.repeat(43)]) {
      const q = new URLSearchParams(query);
      q.set('signature', sig);
      expect(() => signer.verify('GET', key, q, now)).toThrow(ObjectUrlRefused);
    }
    const noSig = new URLSearchParams(query);
    noSig.delete('signature');
    expect(() => signer.verify('GET', key, noSig, now)).toThrow(/missing or malformed signature/);
    expect(() => signer.verify('GET', key, new URLSearchParams(), now)).toThrow(ObjectUrlRefused);
  });

  it('a part URL binds upload, part number and size limit, and is PUT only', () => {
    const { key, query } = parts(
      signer.sign({
        method: 'PUT',
        key: 'a/b',
        expires: nowS + 60,
        uploadId: 'u1',
        partNumber: 3,
        maxBytes: 1000,
      }),
    );
    expect(signer.verify('PUT', key, query, now)).toMatchObject({
      uploadId: 'u1',
      partNumber: 3,
      maxBytes: 1000,
    });
    for (const [name, value] of [
      ['partNumber', '4'],
      ['uploadId', 'u2'],
      ['maxBytes', '100000'],
      ['partNumber', '03'],
    ]) {
      const q = new URLSearchParams(query);
      q.set(name, value);
      expect(() => signer.verify('PUT', key, q, now)).toThrow(ObjectUrlRefused);
    }
    expect(() => signer.verify('GET', key, query, now)).toThrow(ObjectUrlRefused);
    const { query: getQuery } = parts(signer.sign({ method: 'PUT', key: 'a/b', expires: nowS + 60 }));
    expect(() => signer.verify('PUT', key, getQuery, now)).toThrow(/must name an upload/);
  });

  it('needs a long secret and an http(s) base URL', () => {
    expect(() => new ObjectUrlSigner('short', 'http://x')).toThrow(/32 characters/);
    expect(() => new ObjectUrlSigner(secret, 'ftp://x')).toThrow(/http or https/);
  });

  it('pathToKey decodes segments and refuses what is not a key', () => {
    expect(pathToKey('a/b%20c')).toBe('a/b c');
    for (const bad of ['', 'a/../b', '%2e%2e/b', 'a//b', 'a/%00', '%E0%A4%A'])
      expect(pathToKey(bad)).toBeNull();
  });
});
