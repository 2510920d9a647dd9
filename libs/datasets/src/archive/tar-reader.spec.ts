import { gzipSync } from 'node:zlib';
import { buildTarGz } from '../../test-utils/archives';
import { IngestionError } from '../errors';
import { resolveLimits, type IngestionLimits } from '../limits';
import { bufferSource } from '../source/buffer-source';
import { TarGzArchiveReader } from './tar-reader';

jest.setTimeout(30_000);

async function readAll(
  tgz: Buffer,
  limits: Partial<IngestionLimits> = {},
  list = true,
): Promise<Record<string, number>> {
  const reader = new TarGzArchiveReader(bufferSource(tgz, 'test.tar.gz'), resolveLimits(limits));
  if (list) await reader.list();
  const out: Record<string, number> = {};
  for await (const f of reader.files()) {
    let n = 0;
    for await (const chunk of f.stream) n += (chunk as Buffer).length;
    out[f.path] = n;
  }
  return out;
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

describe('TarGzArchiveReader', () => {
  it('streams files and skips folders', async () => {
    const tgz = await buildTarGz([
      { path: 'cats', type: 'directory' },
      { path: 'cats/a.png', data: Buffer.alloc(1000, 1) },
      { path: 'dogs/b.png', data: Buffer.alloc(3000, 2) },
    ]);
    expect(await readAll(tgz)).toEqual({ 'cats/a.png': 1000, 'dogs/b.png': 3000 });
  });

  it('rejects ../ and absolute entries', async () => {
    expect(await codeOf(readAll(await buildTarGz([{ path: '../../etc/cron.d/x', data: 'x' }])))).toMatch(
      /^unsafe_path: .*escapes the archive root/,
    );
    expect(await codeOf(readAll(await buildTarGz([{ path: '/etc/passwd', data: 'x' }])))).toMatch(
      /^unsafe_path: .*absolute path/,
    );
  });

  it('rejects symlink and hard link entries', async () => {
    const sym = await buildTarGz([{ path: 'cats/a.png', type: 'symlink', linkname: '/etc/passwd' }]);
    expect(await codeOf(readAll(sym))).toBe(
      'symlink_entry: archive entry "cats/a.png" is a link; links are not allowed',
    );
    const hard = await buildTarGz([
      { path: 'cats/a.png', data: 'x' },
      { path: 'cats/b.png', type: 'link', linkname: 'cats/a.png' },
    ]);
    expect(await codeOf(readAll(hard))).toMatch(/^symlink_entry: archive entry "cats\/b.png" is a link/);
  });

  it('rejects device and fifo entries', async () => {
    const fifo = await buildTarGz([{ path: 'cats/pipe', type: 'fifo' }]);
    expect(await codeOf(readAll(fifo))).toMatch(/^unsupported_entry_type: /);
  });

  it('stops a gzip bomb while streaming (ratio over the whole stream)', async () => {
    const tgz = await buildTarGz([{ path: 'a/zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }]);
    expect(tgz.length).toBeLessThan(100_000);
    const err = await codeOf(readAll(tgz, { maxEntryBytes: 1e9 }, false));
    expect(err).toMatch(
      /^compression_ratio_exceeded: "test.tar.gz" expands \d+x, more than the allowed 200x/,
    );
  });

  it('caps entries, per-entry size (from the header and while streaming) and the total', async () => {
    const files = Array.from({ length: 12 }, (_, i) => ({
      path: `a/${i}.bin`,
      data: Buffer.alloc(10_000, i),
    }));
    const tgz = await buildTarGz(files);
    expect(await codeOf(readAll(tgz, { maxEntries: 5 }))).toMatch(/^too_many_entries: /);
    expect(await codeOf(readAll(tgz, { maxEntryBytes: 5000 }))).toMatch(
      /^entry_too_large: "a\/0.bin" declares 10000 bytes/,
    );
    expect(await codeOf(readAll(tgz, { maxEntryBytes: 5000 }, false))).toMatch(
      /^entry_too_large: "a\/0.bin" is larger than the per-file cap/,
    );
    expect(await codeOf(readAll(tgz, { maxTotalBytes: 50_000 }))).toMatch(/^archive_too_large: /);
  });

  it('reports a truncated or non-tar gzip as corrupt', async () => {
    const tgz = await buildTarGz([
      { path: 'a/1.bin', data: Buffer.from(Buffer.alloc(50_000).map((_, i) => (i * 31) % 251)) },
    ]);
    expect(await codeOf(readAll(tgz.subarray(0, Math.floor(tgz.length / 2))))).toMatch(/^corrupt_archive: /);
    expect(
      await codeOf(readAll(gzipSync(Buffer.from('just some text, not a tar archive'.repeat(40))))),
    ).toMatch(/^corrupt_archive: /);
  });

  it('keeps labels.csv from the listing pass so it is not read twice', async () => {
    const tgz = await buildTarGz([
      { path: 'img/a.png', data: 'x' },
      { path: 'labels.csv', data: 'path,label\nimg/a.png,cat\n' },
    ]);
    const reader = new TarGzArchiveReader(
      bufferSource(tgz, 't.tar.gz'),
      resolveLimits({}),
      (p) => p === 'labels.csv',
    );
    const listing = await reader.list();
    expect(listing.map((e) => e.path)).toEqual(['img/a.png', 'labels.csv']);
    expect((await reader.readFile('labels.csv', 1000)).toString()).toContain('img/a.png,cat');
  });
});
