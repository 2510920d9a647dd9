import { mulberry32 } from './random';
import { trainTabularTrial, type TabularSlot } from './job-trial';
import { GbdtRungs } from './rungs';
import { prepareTabular, trainTabular } from './train-tabular';
import type { TabularTask } from './artifact';
import type { TabularRow } from './values';

export interface TabularWarmUpOptions {
  /** Rounds of the three searches (binary, 3 classes, regression); default 2. */
  rounds?: number;
  /**
   * Process CPU milliseconds after which no further search starts (default 2,000): CPU time, so a
   * loaded machine (where wall-clock time stretches) still gets the same warm-up.
   */
  maxCpuMs?: number;
  /**
   * Training rows of each synthetic table, every round (validation gets a quarter as many). Default:
   * 300 in the first round, 1,500 after ({@link DEFAULT_ROUND_ROWS}).
   */
  rows?: number;
}

export interface TabularWarmUpResult {
  /**
   * Searches run (each: encoders, the linear and both GBDT candidates, the leakage check; then the
   * same rows as a job's trials, {@link WARM_UP_JOB}).
   */
  searches: number;
  /** Process CPU milliseconds (user + system) of the whole warm-up. */
  cpuMs: number;
  wallMs: number;
}

const TYPES = {
  x1: 'numeric',
  x2: 'numeric',
  x3: 'numeric',
  kind: 'categorical',
  flag: 'boolean',
  day: 'date',
};
const KINDS = ['a', 'b', 'c', 'd', 'e'];

/**
 * Training rows per round by default. The first round's small tables compile the trainers; the
 * second's larger ones run their long loops (a table's pass over all rows, the GBDT's) long enough
 * for V8's optimizing compiler, which a 300-row table's did not (the first search on a 14k-row table
 * after three 300-row rounds then still compiled and ran much of it unoptimized).
 */
export const DEFAULT_ROUND_ROWS = [300, 1500];

/** A seeded synthetic table whose target depends on every column type, with some missing cells. */
export function syntheticTable(task: TabularTask, classes: number, rows: number, seed: number): TabularRow[] {
  const rand = mulberry32(seed);
  return Array.from({ length: rows }, () => {
    const x1 = rand() * 4 - 2;
    const x2 = rand() * 10;
    const kind = KINDS[Math.floor(rand() * KINDS.length)];
    const flag = rand() < 0.5;
    const day = Math.floor(rand() * 365);
    const score = x1 + 0.2 * x2 + KINDS.indexOf(kind) * 0.3 + (flag ? 0.5 : 0) + day / 365 + rand() - 2;
    const y =
      task === 'regression'
        ? score.toFixed(3)
        : `c${Math.min(classes - 1, Math.max(0, Math.floor(((score + 2) / 5) * classes)))}`;
    return {
      x1: rand() < 0.05 ? '' : x1.toFixed(3),
      x2: x2.toFixed(2),
      x3: (rand() * 100).toFixed(1),
      kind: rand() < 0.05 ? '' : kind,
      flag: flag ? 'true' : 'false',
      day: new Date(Date.UTC(2024, 0, 1 + day)).toISOString().slice(0, 10),
      y,
    };
  });
}

/**
 * The trials each warm-up search also runs as a job does (one preparation, trainTabularTrial per slot,
 * rungs): the candidates, then two settings like a job's sampled ones (fractional learning rates and
 * l2 among them). A job's first trials otherwise ran code the whole-search warm-up had not: a fresh
 * worker's first job on fair_affairs cost 0.22-0.32 CPU s against 0.10-0.11 from its third on, with
 * trainGbdt deoptimized several times ("wrong map", "insufficient type feedback") in the first two.
 */
export const WARM_UP_JOB: readonly TabularSlot[] = [
  { name: 'linear', base: 'linear' },
  { name: 'gbdt', base: 'gbdt' },
  { name: 'gbdt_small', base: 'gbdt_small' },
  {
    name: 'sampled_1',
    base: 'gbdt',
    gbdt: { learningRate: 0.045, maxLeaves: 63, minSamplesLeaf: 10, l2: 0.1 },
  },
  { name: 'sampled_2', base: 'gbdt', gbdt: { learningRate: 0.21, maxLeaves: 7, minSamplesLeaf: 2, l2: 1 } },
];

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/**
 * Compiles the tabular trainers before a job needs them: a few small seeded searches (binary,
 * 3-class and regression targets over numeric, categorical, boolean and date columns with missing
 * cells) run through {@link trainTabular}, and the same rows as a job's trials ({@link WARM_UP_JOB}). In a fresh process most of a small table's first search is
 * V8 compiling these loops (a 300-row GBDT fit takes ~20x longer the first time than the fifth);
 * a worker calls this once at start, off any job. Yields to the event loop between searches and
 * starts none after `maxCpuMs` of CPU time.
 */
export async function warmUpTabular(options: TabularWarmUpOptions = {}): Promise<TabularWarmUpResult> {
  const rounds = options.rounds ?? DEFAULT_ROUND_ROWS.length;
  const maxCpuMs = options.maxCpuMs ?? 2000;
  const started = Date.now();
  const cpu0 = cpuMs();
  const plans: { task: TabularTask; classes: number }[] = [
    { task: 'classification', classes: 2 },
    { task: 'classification', classes: 3 },
    { task: 'regression', classes: 0 },
  ];
  let searches = 0;
  outer: for (let round = 0; round < rounds; round++) {
    const n = options.rows ?? DEFAULT_ROUND_ROWS[Math.min(round, DEFAULT_ROUND_ROWS.length - 1)];
    for (const [i, p] of plans.entries()) {
      if (cpuMs() - cpu0 >= maxCpuMs) break outer;
      // Each search's columns under names of their own: a job's rows (another table's column names)
      // then do not deoptimize code compiled for a single row shape (V8 keeps it generic once it
      // has seen several).
      const suffix = `_${searches}`;
      const rows = syntheticTable(p.task, p.classes, n + Math.ceil(n / 4), 1000 * round + i + 1).map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k === 'y' ? k : k + suffix, v])),
      );
      // From the second round on every third row repeats the previous one's features (with its own
      // target), as survey tables do: the GBDT then trains on the distinct rows (gbdt.ts groupRows).
      if (round > 0) for (let j = 2; j < rows.length; j += 3) rows[j] = { ...rows[j - 1], y: rows[j].y };
      const common = {
        train: { rows: rows.slice(0, n) },
        validation: { rows: rows.slice(n) },
        target: 'y',
        task: p.task,
        classes:
          p.task === 'classification' ? Array.from({ length: p.classes }, (_, c) => `c${c}`) : undefined,
        types: Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [k + suffix, v])),
        seed: round + 1,
      };
      await trainTabular(common);
      // The same rows as a job's trials (the worker's path: apps/worker TabularTrainService).
      const prepared = prepareTabular(common);
      const rungs = new GbdtRungs();
      for (const slot of WARM_UP_JOB) await trainTabularTrial(common, prepared, slot, rungs);
      searches++;
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  return { searches, cpuMs: cpuMs() - cpu0, wallMs: Date.now() - started };
}
