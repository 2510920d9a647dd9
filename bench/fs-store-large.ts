/**
 * Multi-GB check of the filesystem object store (too long for CI): streams a generated object of
 * `--gib` GiB (default 4) in with putStream and back out with getStream, then a multipart upload of
 * two 1 GiB parts sent in reverse order and completed, sampling the process's RSS throughout.
 * Memory must stay flat whatever the size. Writes bench/results/fs-store-large.json.
 *
 *   npx tsx bench/fs-store-large.ts [--gib 4] [--dir /tmp]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FsObjectStore } from '@modelsmith/storage';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const gib = Number(arg('gib', '4'));
const base = arg('dir', tmpdir());

let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function generated(bytes: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  const block = randomBytes(MiB);
  return (async function* () {
    for (let n = 0; n * MiB < bytes; n++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, bytes - n * MiB)));
      chunk.writeUInt32BE(n, 0);
      hash.update(chunk);
      if (n % 32 === 0) sample();
      yield chunk;
    }
  })();
}

async function sha256Of(store: FsObjectStore, key: string): Promise<string> {
  const hash = createHash('sha256');
  let n = 0;
  for await (const chunk of await store.getStream(key)) {
    hash.update(chunk as Buffer);
    if (n++ % 256 === 0) sample();
  }
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(base, 'modelsmith-fs-bench-'));
  const store = new FsObjectStore({ directory: dir });
  await store.ensureReady();
  sample();
  const rssStart = peakRss;
  try {
    const total = gib * 1024 * MiB;
    const inHash = createHash('sha256');
    let t = Date.now();
    const put = await store.putStream('bench/big.bin', generated(total, inHash), { size: total });
    const putSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    const outHash = await sha256Of(store, 'bench/big.bin');
    const getSeconds = (Date.now() - t) / 1000;
    const singleOk = outHash === inHash.digest('hex') && put.size === total;
    await store.delete('bench/big.bin');

    const partBytes = 1024 * MiB;
    const uploadId = await store.createMultipartUpload('bench/multi.bin');
    const partHashes = [createHash('sha256'), createHash('sha256')];
    t = Date.now();
    const p2 = await store.uploadPart(
      'bench/multi.bin',
      uploadId,
      2,
      generated(partBytes, partHashes[1]),
      partBytes,
    );
    const p1 = await store.uploadPart(
      'bench/multi.bin',
      uploadId,
      1,
      generated(partBytes, partHashes[0]),
      partBytes,
    );
    const partsSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    await store.completeMultipartUpload('bench/multi.bin', uploadId, [
      { partNumber: 2, etag: p2.etag },
      { partNumber: 1, etag: p1.etag },
    ]);
    const completeSeconds = (Date.now() - t) / 1000;
    const stat = await store.stat('bench/multi.bin');
    // The assembled object is part 1 then part 2: hash its halves and compare with what was sent.
    const halves = [createHash('sha256'), createHash('sha256')];
    let seen = 0;
    for await (const raw of await store.getStream('bench/multi.bin')) {
      const chunk = raw as Buffer;
      const cut = Math.max(0, Math.min(chunk.length, partBytes - seen));
      if (cut > 0) halves[0].update(chunk.subarray(0, cut));
      if (cut < chunk.length) halves[1].update(chunk.subarray(cut));
      seen += chunk.length;
      sample();
    }
    const multipartOk =
      stat?.size === 2 * partBytes &&
      halves[0].digest('hex') === partHashes[0].digest('hex') &&
      halves[1].digest('hex') === partHashes[1].digest('hex') &&
      (await store.listParts('bench/multi.bin', uploadId).catch(() => null)) === null;

    const result = {
      date: new Date().toISOString(),
      directory: base,
      singleObject: {
        gib,
        ok: singleOk,
        putSeconds,
        getSeconds,
        putMiBps: Math.round(total / MiB / putSeconds),
        getMiBps: Math.round(total / MiB / getSeconds),
      },
      multipart: {
        parts: 2,
        partGiB: 1,
        ok: multipartOk,
        partsSeconds,
        completeSeconds,
        completeMiBps: Math.round((2 * partBytes) / MiB / completeSeconds),
      },
      rss: {
        startMiB: Math.round(rssStart / MiB),
        peakMiB: Math.round(peakRss / MiB),
        growthMiB: Math.round((peakRss - rssStart) / MiB),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    await writeFile(
      resolve(__dirname, 'results', 'fs-store-large.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    if (!singleOk || !multipartOk) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
