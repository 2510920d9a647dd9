import { buildTarGz, buildZip } from '../../test-utils/archives';
import { mnistPngs } from '../../test-utils/mnist-images';
import { MemoryShardStore } from '../shards/memory-shard-store';
import { readShards } from '../shards/shard-reader';
import type { ImageShardIndex } from '../shards/shard-index';
import { bufferSource } from '../source/buffer-source';
import type { IngestProgress } from './progress';
import { ingest } from './ingest';

const PER_CLASS = 30;

// Real image decoding on a shared 2-core machine: generous per-test time.
jest.setTimeout(60_000);

describe('ingest: mnist digits as PNG class folders', () => {
  let zip: Buffer;
  let digits: Awaited<ReturnType<typeof mnistPngs>>;

  beforeAll(async () => {
    digits = await mnistPngs(PER_CLASS);
    zip = await buildZip(digits.map((d) => ({ path: `digits/${d.label}/${d.name}`, data: d.png })));
  });

  it('ingests a zip into shards with stratified 80/10/10 splits and a report', async () => {
    const store = new MemoryShardStore();
    const events: IngestProgress[] = [];
    const result = await ingest(
      bufferSource(zip, 'digits.zip', 'application/zip'),
      { image: { size: 32, channels: 1 }, shardSize: 64 },
      store,
      (p) => events.push(p),
    );
    const { report } = result;

    expect(report.format).toBe('image-folders');
    expect(report.container).toBe('zip');
    expect(report.totals).toEqual({
      entries: 300,
      samples: 300,
      skipped: 0,
      duplicates: 0,
      labelConflicts: 0,
    });
    expect(report.classes.map((c) => c.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const c of report.classes) {
      expect(c.count).toBe(PER_CLASS);
      expect(c.splits).toEqual({ train: 24, validation: 3, test: 3 });
    }
    expect(report.splits).toEqual({ train: 240, validation: 30, test: 30 });
    expect(report.imbalanceRatio).toBe(1);
    expect(report.images?.sizeHistogram.find((b) => b.bucket === '<=32')?.count).toBe(300);
    expect(report.images?.width).toMatchObject({ min: 28, max: 28 });
    expect(report.images?.formats).toEqual({ png: 300 });
    expect(report.images?.channels).toEqual({ '1': 300 });
    // 28 px digits cached at 32 px: the only warning is the upscale.
    expect(report.warnings.map((w) => w.code)).toEqual(['images_upscaled']);

    const index = result.index as ImageShardIndex;
    expect(index.shards).toHaveLength(5);
    expect(index.recordBytes).toBe(32 * 32);
    expect(store.keys()).toEqual(
      expect.arrayContaining([
        'index.json',
        'report.json',
        'shards/images-00000.bin',
        'shards/images-00004.bin',
      ]),
    );
    expect(store.objects.get('shards/images-00004.bin')?.length).toBe(44 * 32 * 32);

    expect(events[events.length - 1]).toMatchObject({ stage: 'finalize', percent: 100 });
    expect(events.some((e) => e.stage === 'ingest' && e.entriesTotal === 300)).toBe(true);
  });

  it('reads a split back in batches, with labels matching the folders', async () => {
    const store = new MemoryShardStore();
    await ingest(bufferSource(zip, 'digits.zip'), { image: { size: 28, channels: 1 }, shardSize: 50 }, store);
    const seen: string[] = [];
    let total = 0;
    for await (const batch of readShards(store, { split: 'test', batch: 8 })) {
      expect(batch.shape).toEqual([batch.count, 28, 28, 1]);
      expect(batch.pixels.length).toBe(batch.count * 28 * 28);
      batch.paths.forEach((p, i) => {
        expect(p.split('/')[1]).toBe(String(batch.labels[i]));
        seen.push(p);
      });
      total += batch.count;
    }
    expect(total).toBe(30);
    // The pixels are the digit itself: an unscaled 28x28 gray PNG round-trips exactly.
    const first = seen[0];
    const original = digits.find((d) => `digits/${d.label}/${d.name}` === first)!;
    const sharp = (await import('sharp')).default;
    const raw = await sharp(original.png).toColourspace('b-w').raw().toBuffer();
    const batches = readShards(store, { split: 'test', batch: 1 });
    for await (const b of batches) {
      expect(Buffer.from(b.pixels).equals(raw)).toBe(true);
      break;
    }
  });

  it('gives the same splits for a tar.gz of the same files in another order, and shuffles reproducibly', async () => {
    const reversed = [...digits].reverse();
    const tgz = await buildTarGz(reversed.map((d) => ({ path: `${d.label}/${d.name}`, data: d.png })));
    const a = new MemoryShardStore();
    const b = new MemoryShardStore();
    const ra = await ingest(bufferSource(zip, 'digits.zip'), { image: { size: 16 } }, a);
    const events: IngestProgress[] = [];
    const rb = await ingest(bufferSource(tgz, 'digits.tar.gz'), { image: { size: 16 } }, b, (p) =>
      events.push(p),
    );
    expect(rb.report.container).toBe('tar.gz');
    const percents = events.map((e) => e.percent ?? 0);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));
    expect(events.map((e) => e.stage).filter((st, i, all) => all.indexOf(st) === i)).toEqual([
      'detect',
      'scan',
      'ingest',
      'finalize',
    ]);
    expect(events[events.length - 1]).toMatchObject({
      percent: 100,
      bytesProcessed: tgz.length,
      bytesTotal: tgz.length,
    });
    const splitOf = (samples: { path: string; split: string }[]): Record<string, string> =>
      Object.fromEntries(samples.map((s) => [s.path.replace(/^digits\//, ''), s.split]));
    expect(splitOf(rb.index.samples)).toEqual(splitOf(ra.index.samples));

    const order = async (seed: number): Promise<string[]> => {
      const paths: string[] = [];
      for await (const batch of readShards(a, { split: 'train', batch: 50, shuffleSeed: seed }))
        paths.push(...batch.paths);
      return paths;
    };
    const o1 = await order(1);
    expect(await order(1)).toEqual(o1);
    expect(await order(2)).not.toEqual(o1);
    expect([...o1].sort()).toEqual([...(await order(2))].sort());
  });
});
