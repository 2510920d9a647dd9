/**
 * A fresh worker process's first tabular search, with and without the start-up warm-up
 * (libs/ml tabular `warmUpTabular`, which apps/worker runs once after it starts).
 *
 *   nice npx tsx bench/tabular-first-search.ts      # writes bench/results/tabular-first-search.json
 *   nice npx tsx bench/tabular-first-search.ts --only=randhie --repeat=5
 *                                                   # writes bench/results/tabular-first-search-randhie.json
 *   nice npx tsx bench/tabular-first-search.ts --job [--repeat=3]
 *                                                   # writes bench/results/tabular-first-job.json
 *
 * With --job each child (after the warm-up) runs a whole default job instead of the search
 * (bench/tabular-data.ts defaultJob: the worker's plan and trials), 3 times: the first is a fresh
 * worker's first job on that table; no cold child.
 *
 * For each table of bench/tabular-vs-sklearn.ts (the same product ingestion and split), two child
 * processes (`node -r tsx/cjs`, see `run` below): `cold` runs the search at once, `warm` runs the warm-up first; each then runs the same search 3 times (CPU seconds
 * of the process for each). Then the scikit-learn peer (bench/sklearn/tabular_sklearn.py, one
 * thread: HistGradientBoosting + the linear model) trains on the same split in the same run:
 * `sklearn` is its training CPU seconds (the two fits' sum). `--repeat=N` runs that cold / warm /
 * peer sequence N times, alternating, so load swings hit both sides; `--only=<table>` runs one table.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { trainTabular, warmUpTabular } from '../libs/ml/src';
import {
  datasets,
  defaultJob,
  productTable,
  searchOptions,
  writeProductCsvs,
  type Dataset,
} from './tabular-data';

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

async function child(name: string, warm: boolean, job: boolean): Promise<void> {
  const w = warm ? await warmUpTabular() : null;
  const ds = datasets().find((d) => d.name === name);
  if (!ds || 'skipped' in ds) throw new Error(`${name}: not available`);
  // Ingested like the worker's dataset (the rows it reads), outside the timed searches.
  const t = await productTable(ds);
  const options = searchOptions(t, 20261206);
  const searches: number[] = [];
  for (let k = 0; k < 3; k++) {
    const c0 = cpu();
    if (job) await defaultJob(t);
    else await trainTabular(options);
    searches.push(cpu() - c0);
  }
  process.stdout.write(JSON.stringify({ warmUp: w, searches }) + '\n');
}

/** scikit-learn's training CPU seconds (HGB + linear, one thread) on the table's split. */
async function peer(ds: Dataset): Promise<{ hgb: number; linear: number; total: number }> {
  const t = await productTable(ds);
  const dir = writeProductCsvs(t, 'tabular-first-search');
  const r = spawnSync('/usr/bin/python3', [join(__dirname, 'sklearn/tabular_sklearn.py'), dir, t.task, '1'], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`${ds.name} sklearn: ${r.stderr.slice(-500)}`);
  const models = (
    JSON.parse(r.stdout.trim().split('\n').pop()!) as { models: Record<string, { cpuSeconds: number }> }
  ).models;
  const hgb = models.hgb.cpuSeconds;
  const linear = (models.logreg ?? models.ridge).cpuSeconds;
  return { hgb, linear, total: hgb + linear };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = arg('child');
  const job = process.argv.includes('--job');
  if (only) return void child(only, process.argv.includes('--warm'), job);
  const table = arg('only');
  const repeat = Math.max(1, Number(arg('repeat') ?? 1));
  const started = new Date().toISOString();
  const loadBefore = loadavg();
  const results = [];
  for (const ds of datasets()) {
    if ('skipped' in ds || (table && ds.name !== table)) continue;
    const run = (warm: boolean) => {
      // Plain node with tsx's require hook, as close as TypeScript allows to the worker's
      // `node dist/apps/worker/src/main.js`: under the tsx CLI (`npx tsx`) a child's first search
      // after loading the tables cost ~0.1 CPU s more (wine: 0.14-0.17 against 0.03-0.05 CPU s).
      const args = [
        '-r',
        'tsx/cjs',
        __filename,
        `--child=${ds.name}`,
        ...(warm ? ['--warm'] : []),
        ...(job ? ['--job'] : []),
      ];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${ds.name}: ${r.stderr.slice(-500)}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        warmUp: { searches: number; cpuMs: number; wallMs: number } | null;
        searches: number[];
      };
    };
    const runs = [];
    for (let k = 0; k < repeat; k++) {
      // --job: no cold child (the worker warms up before its first job).
      const cold = job ? { warmUp: null, searches: [NaN] } : run(false);
      const warm = run(true);
      const sk = await peer(ds);
      console.log(
        `${ds.name}: first ${job ? 'job' : 'search'} ${cold.searches[0].toFixed(3)} CPU s cold, ${warm.searches[0].toFixed(3)} after the warm-up (${((warm.warmUp?.cpuMs ?? 0) / 1000).toFixed(2)} CPU s); repeats ${cold.searches
          .slice(1)
          .map((v) => v.toFixed(3))
          .join('/')} | ${warm.searches
          .slice(1)
          .map((v) => v.toFixed(3))
          .join(
            '/',
          )}; sklearn training ${sk.total.toFixed(3)} (HGB ${sk.hgb.toFixed(3)} + linear ${sk.linear.toFixed(3)})`,
      );
      runs.push({ cold: cold.searches, warm: warm.searches, warmUp: warm.warmUp, sklearn: sk });
    }
    const firstWarm = median(runs.map((r) => r.warm[0]));
    const sklearn = median(runs.map((r) => r.sklearn.total));
    results.push({
      name: ds.name,
      // The first run's fields, as before --repeat.
      cold: runs[0].cold,
      warm: runs[0].warm,
      warmUp: runs[0].warmUp,
      runs,
      median: {
        coldFirst: median(runs.map((r) => r.cold[0])),
        warmFirst: firstWarm,
        sklearn,
        ratioWarmFirst: firstWarm / sklearn,
        ratioPerRun: median(runs.map((r) => r.warm[0] / r.sklearn.total)),
      },
    });
  }
  const base = job ? 'tabular-first-job' : 'tabular-first-search';
  const out = {
    bench: base,
    /** What each child timed 3 times: trainTabular with every candidate, or a whole default job (--job). */
    timed: job ? 'job' : 'search',
    started,
    finished: new Date().toISOString(),
    loadBefore,
    loadAfter: loadavg(),
    repeat,
    results,
  };
  const file = table ? `results/${base}-${table}.json` : `results/${base}.json`;
  writeFileSync(join(__dirname, file), JSON.stringify(out, null, 2) + '\n');
}

void main();
