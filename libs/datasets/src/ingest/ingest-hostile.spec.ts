import { buildTarGz, buildZip, type FileSpec } from '../../test-utils/archives';
import { noiseImage, orientedJpeg, pngClaiming, truncatedJpeg } from '../../test-utils/images';
import { rawZip } from '../../test-utils/raw-zip';
import { IngestionError } from '../errors';
import { MemoryShardStore } from '../shards/memory-shard-store';
import { bufferSource } from '../source/buffer-source';
import { ingest } from './ingest';
import type { IngestOptions } from './options';

jest.setTimeout(30_000);

async function images(label: string, n: number, seed: number): Promise<FileSpec[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => ({
      path: `${label}/${i}.png`,
      data: await noiseImage(12, 10, seed * 1000 + i),
    })),
  );
}

async function fail(
  data: Buffer,
  name: string,
  options: IngestOptions = {},
  contentType?: string,
): Promise<IngestionError> {
  const store = new MemoryShardStore();
  try {
    await ingest(bufferSource(data, name, contentType), { image: { size: 8 }, ...options }, store);
  } catch (err) {
    if (!(err instanceof IngestionError)) throw err;
    // Nothing partial is ever committed: the index (the commit marker) is never written.
    expect(store.keys()).not.toContain('index.json');
    return err;
  }
  throw new Error('expected ingestion to fail');
}

function ingestZip(
  files: FileSpec[] | Buffer,
  options: IngestOptions = {},
): Promise<Awaited<ReturnType<typeof ingest>>> {
  const run = async (): Promise<Awaited<ReturnType<typeof ingest>>> => {
    const zip = Buffer.isBuffer(files) ? files : await buildZip(files);
    return ingest(bufferSource(zip, 'data.zip'), { image: { size: 8 }, ...options }, new MemoryShardStore());
  };
  return run();
}

describe('ingest: hostile and broken input', () => {
  let cats: FileSpec[];
  let dogs: FileSpec[];

  beforeAll(async () => {
    cats = await images('cats', 12, 1);
    dogs = await images('dogs', 12, 2);
  });

  it('skips and lists a PNG whose header claims 30000x30000, a truncated JPEG and non-images', async () => {
    const { report, index } = await ingestZip([
      ...cats,
      ...dogs,
      { path: 'cats/bomb.png', data: await pngClaiming(30000, 30000) },
      { path: 'dogs/cut.jpg', data: await truncatedJpeg() },
      { path: 'dogs/notes.txt', data: 'not an image' },
      { path: 'dogs/fake.png', data: 'text pretending to be a png' },
      { path: 'dogs/pic.bmp', data: Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]) },
      { path: 'README.md', data: '# hello' },
      { path: '__MACOSX/cats/._0.png', data: 'junk' },
    ]);
    expect(report.totals.samples).toBe(24);
    const byPath = Object.fromEntries(report.skipped.map((s) => [s.path, s]));
    expect(byPath['cats/bomb.png']).toMatchObject({ reason: 'image_too_large' });
    expect(byPath['cats/bomb.png']!.message).toContain('30000x30000');
    expect(byPath['dogs/cut.jpg']).toMatchObject({ reason: 'corrupt_image' });
    expect(byPath['dogs/cut.jpg']!.message).toMatch(/truncated|premature/i);
    expect(byPath['dogs/notes.txt']).toMatchObject({ reason: 'not_an_image' });
    expect(byPath['dogs/fake.png']).toMatchObject({ reason: 'not_an_image' });
    expect(byPath['dogs/pic.bmp']).toMatchObject({ reason: 'unsupported_image_format' });
    expect(byPath['README.md']).toMatchObject({ reason: 'outside_class_folder' });
    expect(byPath['__MACOSX/cats/._0.png']).toBeUndefined();
    expect(report.skippedByReason).toEqual({
      image_too_large: 1,
      corrupt_image: 1,
      not_an_image: 2,
      unsupported_image_format: 1,
      outside_class_folder: 1,
    });
    expect(index.samples.every((s) => !s.path.includes('bomb') && !s.path.includes('cut'))).toBe(true);
  });

  it('honours a lower pixel cap', async () => {
    const big = await noiseImage(100, 100, 9);
    const { report } = await ingestZip([...cats, ...dogs, { path: 'cats/big.png', data: big }], {
      limits: { maxImagePixels: 5000 },
    });
    expect(report.skipped).toEqual([
      expect.objectContaining({
        path: 'cats/big.png',
        reason: 'image_too_large',
        message: expect.stringContaining('100x100'),
      }),
    ]);
  });

  it('fails zip-slip, symlink and bomb archives as a whole with a code naming the entry', async () => {
    const png = cats[0].data as Buffer;
    expect(
      await fail(
        rawZip([
          { name: 'cats/a.png', data: png },
          { name: '../../evil.png', data: png },
        ]),
        'slip.zip',
      ),
    ).toMatchObject({
      code: 'unsafe_path',
      details: { file: '../../evil.png' },
    });
    expect(
      await fail(rawZip([{ name: 'cats/a.png', data: png, unixMode: 0o120777 }]), 'link.zip'),
    ).toMatchObject({ code: 'symlink_entry' });
    const bomb = rawZip([{ name: 'cats/a.png', data: Buffer.alloc(10 * 1024 * 1024), deflate: true }], {
      overlap: 100,
    });
    expect((await fail(bomb, 'bomb.zip')).code).toMatch(/^(overlapping_entries|compression_ratio_exceeded)$/);
    const tarSlip = await buildTarGz([{ path: 'cats/../../x.png', data: png }]);
    expect(await fail(tarSlip, 'slip.tar.gz')).toMatchObject({ code: 'unsafe_path' });
    const tarLink = await buildTarGz([
      { path: 'cats/a.png', data: png },
      { path: 'dogs/b.png', type: 'symlink', linkname: '/etc/shadow' },
    ]);
    expect(await fail(tarLink, 'link.tar.gz')).toMatchObject({
      code: 'symlink_entry',
      details: { file: 'dogs/b.png' },
    });
  });

  it('rejects an empty archive, an archive of folders only, and an empty upload', async () => {
    expect(await fail(await buildZip([]), 'empty.zip')).toMatchObject({ code: 'empty_archive' });
    expect(
      await fail(
        await buildZip([
          { path: 'cats/', data: '' },
          { path: 'dogs/', data: '' },
        ]),
        'dirs.zip',
      ),
    ).toMatchObject({ code: 'empty_archive' });
    expect(await fail(await buildTarGz([]), 'empty.tar.gz')).toMatchObject({ code: 'empty_archive' });
    expect(await fail(Buffer.alloc(0), 'nothing.zip')).toMatchObject({ code: 'empty_archive' });
  });

  it('rejects a single class, and a dataset where nothing is usable', async () => {
    const single = await fail(await buildZip(cats), 'cats.zip');
    expect(single.code).toBe('single_class');
    expect(single.message).toContain('`cats`');
    const junk = await fail(
      await buildZip([
        { path: 'a/x.txt', data: 'x' },
        { path: 'b/y.txt', data: 'y' },
      ]),
      'junk.zip',
    );
    expect(junk.code).toBe('empty_dataset');
  });

  it('drops empty classes with a warning and warns about small classes', async () => {
    const owls = await images('owls', 2, 5);
    const { report } = await ingestZip([
      ...cats,
      ...dogs.slice(0, 3),
      ...owls,
      { path: 'birds/', data: '' },
      { path: 'fish/broken.jpg', data: await truncatedJpeg() },
    ]);
    expect(report.classes.map((c) => [c.name, c.count])).toEqual([
      ['cats', 12],
      ['dogs', 3],
      ['owls', 2],
    ]);
    expect(report.classes.find((c) => c.name === 'owls')!.splits).toEqual({
      train: 2,
      validation: 0,
      test: 0,
    });
    const codes = report.warnings.map((w) => `${w.code}:${w.subject ?? ''}`);
    expect(codes).toEqual(
      expect.arrayContaining([
        'class_too_small:dogs',
        'class_too_small:owls',
        'class_not_split:owls',
        'empty_class:birds',
        'empty_class:fish',
      ]),
    );
    expect(codes).not.toContain('class_not_split:dogs');
    expect(report.warnings.find((w) => w.code === 'class_too_small')!.message).toBe(
      'class `dogs` has 3 images; at least 10 recommended',
    );
  });

  it('keeps unicode labels and sanitizes path characters', async () => {
    const files = [...(await images('猫', 12, 3)), ...(await images('café', 12, 4))];
    const { report } = await ingestZip(files);
    expect(report.classes.map((c) => c.name).sort()).toEqual(['café', '猫'].sort());

    const csv = [
      'path,label',
      ...cats.map((f) => `${f.path},a/b`),
      ...dogs.map((f) => `${f.path},"x\\y:z"`),
    ].join('\n');
    const labeled = await ingestZip([...cats, ...dogs, { path: 'labels.csv', data: csv }]);
    expect(labeled.report.format).toBe('image-labels-csv');
    expect(labeled.report.classes.map((c) => c.name)).toEqual(['a_b', 'x_y_z']);
    expect(labeled.report.warnings.filter((w) => w.code === 'label_sanitized').map((w) => w.subject)).toEqual(
      ['a_b', 'x_y_z'],
    );
  });

  it('rejects a wrong content type, an unknown format and a format that does not fit', async () => {
    const zip = await buildZip([...cats, ...dogs]);
    expect(await fail(zip, 'data.zip', {}, 'text/csv')).toMatchObject({ code: 'content_type_mismatch' });
    expect(await fail(zip, 'data.zip', { format: 'text-csv' })).toMatchObject({
      code: 'content_type_mismatch',
    });
    expect(await fail(zip, 'data.zip', { format: 'image-labels-csv' })).toMatchObject({
      code: 'labels_csv_invalid',
    });
    expect(await fail(cats[0].data as Buffer, 'photo.png')).toMatchObject({ code: 'unknown_format' });
    expect(await fail(Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00, 0xcf]), 'x.rar')).toMatchObject({
      code: 'unknown_format',
    });
    const ok = await ingest(
      bufferSource(zip, 'data.zip', 'application/octet-stream'),
      { image: { size: 8 } },
      new MemoryShardStore(),
    );
    expect(ok.report.totals.samples).toBe(24);
  });

  it('reports exact duplicates and label conflicts; conflicts are excluded and duplicates never straddle splits', async () => {
    const same = cats[0].data as Buffer;
    const { report, index } = await ingestZip([
      ...cats,
      ...dogs,
      { path: 'cats/copy-of-0.png', data: same },
      { path: 'cats/another-copy.png', data: same },
      { path: 'dogs/looks-like-dog.png', data: dogs[1].data },
      { path: 'cats/also-a-cat.png', data: dogs[1].data },
    ]);
    expect(report.totals.duplicates).toBe(3);
    expect(report.duplicates).toEqual([
      expect.objectContaining({
        kept: 'cats/0.png',
        duplicates: ['cats/copy-of-0.png', 'cats/another-copy.png'],
      }),
      expect.objectContaining({ kept: 'dogs/1.png', duplicates: ['dogs/looks-like-dog.png'] }),
    ]);
    expect(report.totals.labelConflicts).toBe(1);
    expect(report.labelConflicts[0].items).toEqual([
      { path: 'dogs/1.png', label: 'dogs' },
      { path: 'cats/also-a-cat.png', label: 'cats' },
    ]);
    expect(report.skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'cats/also-a-cat.png', reason: 'label_conflict' }),
        expect.objectContaining({ path: 'dogs/1.png', reason: 'label_conflict' }),
      ]),
    );
    expect(index.samples.map((s) => s.path)).not.toContain('dogs/1.png');
    expect(report.classes.find((c) => c.name === 'dogs')!.count).toBe(11);
    const hashes = new Set(index.samples.map((s) => s.hash));
    expect(hashes.size).toBe(index.samples.length);
    expect(report.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['duplicates_found', 'label_conflicts']),
    );
  });

  it('applies EXIF orientation before resizing', async () => {
    const store = new MemoryShardStore();
    const zip = await buildZip([...cats, ...dogs, { path: 'cats/rotated.jpg', data: await orientedJpeg(6) }]);
    const { report, index } = await ingest(
      bufferSource(zip, 'data.zip'),
      { image: { width: 2, height: 4, fit: 'fill', channels: 1 } },
      store,
    );
    expect(report.images!.exifOriented).toBe(1);
    expect(report.images!.formats).toEqual({ jpeg: 1, png: 24 });
    // 40x20 with a white left half, orientation 6 (rotate 90° clockwise): 20x40, white on top.
    expect(report.images!.height!.max).toBe(40);
    const sample = index.samples.find((s) => s.path === 'cats/rotated.jpg')!;
    const shard = await store.get(index.shards[sample.shard].key);
    const px = Array.from(shard.subarray(sample.offset * 8, sample.offset * 8 + 8));
    expect(px.slice(0, 4).every((v) => v > 200)).toBe(true);
    expect(px.slice(4).every((v) => v < 55)).toBe(true);
  });

  it('stops when cancelled and reports it with a code', async () => {
    const zip = await buildZip([...cats, ...dogs]);
    const controller = new AbortController();
    const store = new MemoryShardStore();
    const run = ingest(
      bufferSource(zip, 'data.zip'),
      { image: { size: 8 }, signal: controller.signal },
      store,
      (p) => {
        if (p.stage === 'ingest') controller.abort();
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(store.keys()).not.toContain('index.json');
  });

  it('validates options', async () => {
    const zip = await buildZip([...cats, ...dogs]);
    expect(await fail(zip, 'data.zip', { image: { size: 0 } })).toMatchObject({
      code: 'invalid_options',
      details: { field: 'image.size' },
    });
    expect(await fail(zip, 'data.zip', { split: { train: 0 } })).toMatchObject({ code: 'invalid_options' });
  });
});
