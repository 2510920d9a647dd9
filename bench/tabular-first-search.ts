/**
 * A fresh worker process's first tabular search, with and without the start-up warm-up
 * (libs/ml tabular `warmUpTabular`, which apps/worker runs once after it starts).
 *
 *   nice npx tsx bench/tabular-first-search.ts      # writes bench/results/tabular-first-search.json
 *
 * For each table of bench/tabular-vs-sklearn.ts (same split), two child processes: `cold` runs the
 * search at once, `warm` runs the warm-up first; each then runs the same search 3 times (CPU seconds
 * of the process for each). Compare `first` with scikit-learn's training CPU in
 * bench/results/tabular-vs-sklearn.json (`sklearnTrainCpuSeconds`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { trainTabular, warmUpTabular, type TabularRow } from '../libs/ml/src';
import { datasets, split } from './tabular-data';

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

async function child(name: string, warm: boolean): Promise<void> {
  const w = warm ? await warmUpTabular() : null;
  const ds = datasets().find((d) => d.name === name);
  if (!ds || 'skipped' in ds) throw new Error(`${name}: not available`);
  const s = split(ds, 20261206);
  const target = ds.columns[ds.columns.length - 1];
  const toRow = (r: string[]): TabularRow => Object.fromEntries(ds.columns.map((c, j) => [c, r[j]]));
  const classes = [...new Set(ds.rows.map((r) => r[r.length - 1]))].sort();
  const tr = s.train.map((i) => toRow(ds.rows[i]));
  const va = s.validation.map((i) => toRow(ds.rows[i]));
  const searches: number[] = [];
  for (let k = 0; k < 3; k++) {
    const c0 = cpu();
    await trainTabular({
      train: { rows: tr },
      validation: { rows: va },
      target,
      task: ds.task,
      classes: ds.task === 'classification' ? classes : undefined,
      types: Object.fromEntries(ds.columns.slice(0, -1).map((c) => [c, 'numeric'])),
      seed: 20261206,
    });
    searches.push(cpu() - c0);
  }
  process.stdout.write(JSON.stringify({ warmUp: w, searches }) + '\n');
}

function main(): void {
  const only = process.argv.find((a) => a.startsWith('--child='))?.slice('--child='.length);
  if (only) return void child(only, process.argv.includes('--warm'));
  const started = new Date().toISOString();
  const loadBefore = loadavg();
  const results = [];
  for (const ds of datasets()) {
    if ('skipped' in ds) continue;
    const run = (warm: boolean) => {
      const args = ['tsx', __filename, `--child=${ds.name}`, ...(warm ? ['--warm'] : [])];
      const r = spawnSync('npx', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${ds.name}: ${r.stderr.slice(-500)}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        warmUp: { searches: number; cpuMs: number; wallMs: number } | null;
        searches: number[];
      };
    };
    const cold = run(false);
    const warm = run(true);
    console.log(
      `${ds.name}: first search ${cold.searches[0].toFixed(3)} CPU s cold, ${warm.searches[0].toFixed(3)} after the warm-up (${((warm.warmUp?.cpuMs ?? 0) / 1000).toFixed(2)} CPU s); repeats ${cold.searches
        .slice(1)
        .map((v) => v.toFixed(3))
        .join('/')} | ${warm.searches
        .slice(1)
        .map((v) => v.toFixed(3))
        .join('/')}`,
    );
    results.push({ name: ds.name, cold: cold.searches, warm: warm.searches, warmUp: warm.warmUp });
  }
  const out = {
    bench: 'tabular-first-search',
    started,
    finished: new Date().toISOString(),
    loadBefore,
    loadAfter: loadavg(),
    results,
  };
  writeFileSync(join(__dirname, 'results/tabular-first-search.json'), JSON.stringify(out, null, 2) + '\n');
}

main();
