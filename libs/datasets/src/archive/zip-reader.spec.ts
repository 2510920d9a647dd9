import { buildZip } from '../../test-utils/archives';
import { rawZip } from '../../test-utils/raw-zip';
import { IngestionError } from '../errors';
import { resolveLimits, type IngestionLimits } from '../limits';
import { bufferSource } from '../source/buffer-source';
import type { ByteSource } from '../source/byte-source';
import { ZipArchiveReader } from './zip-reader';

jest.setTimeout(30_000);

async function listAndRead(
  zip: Buffer,
  limits: Partial<IngestionLimits> = {},
): Promise<{ paths: string[]; bytes: number }> {
  const reader = new ZipArchiveReader(bufferSource(zip, 'test.zip'), resolveLimits(limits));
  await reader.list();
  const paths: string[] = [];
  let bytes = 0;
  for await (const f of reader.files()) {
    paths.push(f.path);
    for await (const chunk of f.stream) bytes += (chunk as Buffer).length;
  }
  return { paths, bytes };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IngestionError) return `${err.code}: ${err.message}`;
    throw err;
  }
  throw new Error('expected an IngestionError');
}

const png = Buffer.from('89504e470d0a1a0a', 'hex');

describe('ZipArchiveReader', () => {
  it('lists and streams regular entries, normalizing paths', async () => {
    const zip = await buildZip([
      { path: 'a/one.png', data: png },
      { path: 'a/./two.png', data: png },
      { path: 'b/', data: '' },
    ]);
    const { paths, bytes } = await listAndRead(zip);
    expect(paths).toEqual(['a/one.png', 'a/two.png']);
    expect(bytes).toBe(16);
  });

  it.each([
    ['../evil.png', 'escapes the archive root'],
    ['cats/../../evil.png', 'escapes the archive root'],
    ['..\\evil.png', 'escapes the archive root'],
    ['/etc/passwd', 'absolute path'],
    ['C:/Windows/evil.png', 'absolute path'],
  ])('rejects the zip-slip entry %s', async (name, message) => {
    const zip = rawZip([
      { name: 'ok/a.png', data: png },
      { name, data: png },
    ]);
    const err = await codeOf(listAndRead(zip));
    expect(err).toMatch(/^unsafe_path: /);
    expect(err).toContain(message);
  });

  it('rejects a symlink entry (Unix mode in the external attributes)', async () => {
    const zip = rawZip([{ name: 'cats/link.png', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 }]);
    expect(await codeOf(listAndRead(zip))).toBe(
      'symlink_entry: archive entry "cats/link.png" is a symbolic link; links are not allowed',
    );
  });

  it('rejects an overlapping-entry bomb (many records pointing at one local file)', async () => {
    const zip = rawZip([{ name: 'a/zeros.png', data: Buffer.alloc(100_000), deflate: true }], {
      overlap: 200,
    });
    expect(await codeOf(listAndRead(zip))).toMatch(
      /^overlapping_entries: archive entries "a\/zeros.png" and "a\/zeros.png" overlap/,
    );
  });

  it('rejects a highly compressed entry by its declared ratio before reading it', async () => {
    const zip = rawZip([{ name: 'a/zeros.bin', data: Buffer.alloc(30 * 1024 * 1024), deflate: true }]);
    expect(await codeOf(listAndRead(zip))).toMatch(
      /^compression_ratio_exceeded: "a\/zeros.bin" expands \d+x/,
    );
  });

  it('stops a bomb whose header lies about its size while streaming', async () => {
    const zip = rawZip([
      { name: 'a/zeros.bin', data: Buffer.alloc(30 * 1024 * 1024), deflate: true, declaredSize: 1000 },
    ]);
    expect(await codeOf(listAndRead(zip))).toMatch(
      /^corrupt_archive: "a\/zeros.bin" does not match its declared size: too many bytes/,
    );
  });

  it('enforces the compression ratio while streaming, not only from headers', async () => {
    const zip = rawZip([{ name: 'a/zeros.bin', data: Buffer.alloc(4 * 1024 * 1024), deflate: true }]);
    const strict = new ZipArchiveReader(
      bufferSource(zip, 't.zip'),
      resolveLimits({ maxCompressionRatio: 50 }),
    );
    const files = strict.files()[Symbol.asyncIterator]();
    const first = await files.next();
    expect(first.done).toBe(false);
    const drain = async (): Promise<void> => {
      for await (const _ of (first.value as { stream: NodeJS.ReadableStream }).stream) void _;
    };
    expect(await codeOf(drain())).toMatch(/^compression_ratio_exceeded: /);
  });

  it('caps the entry count, the total uncompressed size and the entry size', async () => {
    const zip = await buildZip(
      Array.from({ length: 20 }, (_, i) => ({ path: `a/${i}.png`, data: Buffer.alloc(5000, i) })),
    );
    expect(await codeOf(listAndRead(zip, { maxEntries: 10 }))).toMatch(
      /^too_many_entries: "test.zip" has 20 entries; at most 10/,
    );
    expect(await codeOf(listAndRead(zip, { maxTotalBytes: 50_000 }))).toMatch(/^archive_too_large: /);
    expect(await codeOf(listAndRead(zip, { maxEntryBytes: 4000 }))).toMatch(
      /^entry_too_large: "a\/0.png" declares 5000 bytes/,
    );
  });

  it('reports a damaged archive as corrupt', async () => {
    const zip = await buildZip([{ path: 'a/1.png', data: png }]);
    expect(await codeOf(listAndRead(zip.subarray(0, zip.length - 10)))).toMatch(
      /^corrupt_archive: "test.zip" is not a readable zip archive/,
    );
  });

  it('reads through ranged requests, never the whole archive at once', async () => {
    const zip = await buildZip(
      Array.from({ length: 30 }, (_, i) => ({
        path: `a/${i}.png`,
        data: Buffer.alloc(60_000, i),
        compress: false,
      })),
    );
    const inner = bufferSource(zip, 'ranged.zip');
    const ranges: number[] = [];
    const source: ByteSource = {
      name: inner.name,
      size: inner.size,
      openRange: (start, end) => {
        ranges.push(end - start);
        return inner.openRange(start, end);
      },
    };
    const reader = new ZipArchiveReader(source, resolveLimits({}));
    let n = 0;
    for await (const f of reader.files()) {
      for await (const _ of f.stream) void _;
      n += 1;
    }
    expect(n).toBe(30);
    // Small ranged reads (read-ahead blocks), each a fraction of the archive, about one pass in total.
    expect(ranges.length).toBeGreaterThan(5);
    expect(Math.max(...ranges)).toBeLessThan(zip.length / 5);
    expect(ranges.reduce((a, b) => a + b, 0)).toBeLessThan(zip.length * 1.5);
  });
});
