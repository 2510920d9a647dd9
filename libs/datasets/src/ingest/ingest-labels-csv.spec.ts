import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTarGz, type TarSpec } from '../../test-utils/archives';
import { noiseImage } from '../../test-utils/images';
import { FsShardStore } from '../shards/fs-shard-store';
import { readShards } from '../shards/shard-reader';
import { fileSource } from '../source/file-source';
import { ingest } from './ingest';

jest.setTimeout(30_000);

describe('ingest: archive + labels.csv, from a file, into a filesystem store', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'datasets-labels-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('labels images from labels.csv with a split column, listing unlisted files and missing rows', async () => {
    const files: TarSpec[] = [];
    const csv = ['path,label,split'];
    for (let i = 0; i < 24; i++) {
      files.push({ path: `export/images/img${i}.png`, data: await noiseImage(9, 9, i + 1) });
      csv.push(
        `images/img${i}.png,${i % 2 === 0 ? 'ok' : 'defect'},${i < 16 ? 'train' : i < 20 ? 'validation' : 'test'}`,
      );
    }
    files.push({ path: 'export/images/stray.png', data: await noiseImage(9, 9, 999) });
    files.push({ path: 'export/images/nosplit.png', data: await noiseImage(9, 9, 555) });
    csv.push('images/nosplit.png,ok');
    csv.push('images/missing.png,ok,train');
    csv.push('images/img0.png,ok,train');
    csv.push('images/img1.png,defect,train');
    csv.push('images/img2.png');
    files.push({ path: 'export/labels.csv', data: csv.join('\n') });
    const archive = join(dir, 'upload.tgz');
    await writeFile(archive, await buildTarGz(files));

    const store = new FsShardStore(join(dir, 'store'));
    const { report } = await ingest(
      await fileSource(archive),
      { image: { size: 4 }, keyPrefix: 'ds1/v1/' },
      store,
    );
    expect(report.format).toBe('image-labels-csv');
    expect(report.container).toBe('tar.gz');
    // One row omits its split: it is assigned by the seeded split (a class of one goes to train).
    expect(report.split.method).toBe('mixed');
    expect(report.warnings.map((w) => w.code)).not.toContain('class_not_split');
    expect(report.splits).toEqual({ train: 17, validation: 4, test: 4 });
    expect(report.classes.map((c) => [c.name, c.count])).toEqual([
      ['defect', 12],
      ['ok', 13],
    ]);
    const reasons = report.skipped.map((s) => `${s.reason}:${s.path}:${s.line ?? ''}`).sort();
    expect(reasons).toEqual(
      [
        'malformed_row:export/labels.csv:28',
        'malformed_row:export/labels.csv:29',
        'malformed_row:export/labels.csv:30',
        'missing_file:labels.csv:27',
        'not_in_labels_csv:export/images/stray.png:',
      ].sort(),
    );

    let n = 0;
    for await (const batch of readShards(store, { split: 'validation', prefix: 'ds1/v1/', batch: 3 })) {
      expect(batch.shape.slice(1)).toEqual([4, 4, 3]);
      n += batch.count;
    }
    expect(n).toBe(4);
  });
});
