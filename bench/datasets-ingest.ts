/**
 * Ingestion benchmark: images/s, MB/s and peak RSS for zip and tar.gz archives of 5k and 20k
 * images (mnist digits as PNG class folders, upscaled to 56 px). Every measurement runs in its
 * own child process so RSS is clean. Writes bench/results/datasets-ingest.json.
 *
 *   npx tsx bench/datasets-ingest.ts [--sizes 5000,20000] [--containers zip,tar.gz]
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { ZipFile } from 'yazl';
import { digitCount, digitPng } from '../libs/datasets/test-utils/mnist-images';
import { FsShardStore, fileSource, ingest } from '../libs/datasets/src';

type Container = 'zip' | 'tar.gz';
const IMAGE_PX = 56;
const CACHE_PX = 64;

interface ChildResult {
  container: Container;
  images: number;
  archiveBytes: number;
  seconds: number;
  imagesPerSecond: number;
  megabytesPerSecond: number;
  peakRssMB: number;
  samples: number;
  shards: number;
  /** 1-minute load average when the run ended (the machine is shared: numbers drop under load). */
  loadAverage: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Yields `count` distinct digit PNGs round-robin over the 10 classes. */
async function* digits(count: number): AsyncGenerator<{ path: string; data: Buffer }> {
  for (let i = 0; i < count; i++) {
    const d = i % 10;
    const k = Math.floor(i / 10);
    const variant = Math.floor(k / digitCount(d));
    yield { path: `digits/${d}/${d}-${k}.png`, data: await digitPng(d, k, variant, IMAGE_PX) };
  }
}

async function writeZip(path: string, count: number): Promise<void> {
  const zip = new ZipFile();
  const done = pipeline(zip.outputStream, createWriteStream(path));
  for await (const f of digits(count)) zip.addBuffer(f.data, f.path, { compress: false, mtime: new Date(0) });
  zip.end();
  await done;
}

async function writeTarGz(path: string, count: number): Promise<void> {
  const tar = pack();
  const done = pipeline(tar as unknown as NodeJS.ReadableStream, createGzip(), createWriteStream(path));
  for await (const f of digits(count)) {
    await new Promise<void>((res, rej) =>
      tar.entry({ name: f.path, size: f.data.length, mtime: new Date(0) }, f.data, (err) =>
        err ? rej(err) : res(),
      ),
    );
  }
  tar.finalize();
  await done;
}

/** Child: ingest one archive and print the measurements as JSON. */
async function child(archive: string, container: Container, images: number, storeDir: string): Promise<void> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const source = await fileSource(archive);
  const started = process.hrtime.bigint();
  const { report, index } = await ingest(
    source,
    { image: { size: CACHE_PX, channels: 3 }, shardSize: 1024 },
    new FsShardStore(storeDir),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const result: ChildResult = {
    container,
    images,
    archiveBytes: source.size,
    seconds: Math.round(seconds * 100) / 100,
    imagesPerSecond: Math.round(report.totals.samples / seconds),
    megabytesPerSecond: Math.round((source.size / 1e6 / seconds) * 100) / 100,
    peakRssMB: Math.round((peak / 1024 / 1024) * 10) / 10,
    samples: report.totals.samples,
    shards: index.shards.length,
    loadAverage: Math.round(loadavg()[0] * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(
  archive: string,
  container: Container,
  images: number,
  storeDir: string,
): Promise<ChildResult> {
  return new Promise((res, rej) => {
    const proc = spawn(
      process.execPath,
      [...process.execArgv, __filename, '--child', archive, container, String(images), storeDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.on('error', rej);
    proc.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`child exited with ${code}`));
      res(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(process.argv[3], process.argv[4] as Container, Number(process.argv[5]), process.argv[6]);
    return;
  }
  const sizes = arg('sizes', '5000,20000').split(',').map(Number);
  const containers = arg('containers', 'zip,tar.gz').split(',') as Container[];
  const work = await mkdtemp(join(tmpdir(), 'datasets-bench-'));
  const results: ChildResult[] = [];
  try {
    for (const container of containers) {
      for (const n of sizes) {
        const archive = join(work, `digits-${n}.${container === 'zip' ? 'zip' : 'tar.gz'}`);
        const t0 = Date.now();
        await (container === 'zip' ? writeZip(archive, n) : writeTarGz(archive, n));
        console.error(
          `built ${archive} (${((await stat(archive)).size / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
        const r = await runChild(archive, container, n, join(work, `store-${container}-${n}`));
        console.error(JSON.stringify(r));
        results.push(r);
        await rm(join(work, `store-${container}-${n}`), { recursive: true, force: true });
        await rm(archive, { force: true });
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const ratios = containers.map((container) => {
    const small = results.find((r) => r.container === container && r.images === Math.min(...sizes))!;
    const large = results.find((r) => r.container === container && r.images === Math.max(...sizes))!;
    const ratio = Math.round((large.peakRssMB / small.peakRssMB) * 100) / 100;
    return {
      container,
      smallImages: small.images,
      largeImages: large.images,
      peakRssRatio: ratio,
      withinLimit: ratio <= 1.5,
    };
  });
  const out = {
    benchmark: 'datasets-ingest',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      loadAverageAtEnd: Math.round(loadavg()[0] * 10) / 10,
    },
    setup: {
      imagePx: IMAGE_PX,
      cachePx: CACHE_PX,
      channels: 3,
      shardSize: 1024,
      concurrency: 4,
      source: 'mnist digits as PNG class folders (distinct shifted variants past the package samples)',
    },
    results,
    rssScaling: ratios,
    command: 'npx tsx bench/datasets-ingest.ts',
  };
  const file = resolve(__dirname, 'results', 'datasets-ingest.json');
  await mkdir(resolve(__dirname, 'results'), { recursive: true });
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
  if (ratios.some((r) => !r.withinLimit)) {
    console.error('peak RSS grew more than 1.5x from the small to the large archive');
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
