/**
 * The search's sampler: TPE against seeded random draws at an equal budget of trials, on real
 * datasets (bench/search-common.ts: food photos, Tux Paint stamps, Fashion-MNIST), several seeds.
 * Each arm is the worker's own search (runSearch: first trial, then ASHA with rungs of 1, 3 and 9
 * epochs) run to `--trials` trials with no deadline, so both arms train the same number of trials
 * whatever the machine's load; the process CPU-seconds each arm used are recorded next to it. Both
 * arms of a seed draw the same configurations until TPE has 5 scored ones (tpe.ts startup), so the
 * comparison is paired: the 'tpe' arm starts from the 'random' arm's trials up to that point
 * (`samplersAgreeFor`; ledger rows and trial models, as a resumed job would) instead of training them
 * again, and its CPU-seconds count theirs as measured in the 'random' arm. Trials are compared on validation only; each arm's winner is evaluated once
 * on test. Backend: wasm with the BLAS addon (the worker's default, ML_NATIVE_BLAS on).
 *
 * Usage: nice npx tsx bench/search-sampler.ts [--datasets food,stamps,fashion] [--seeds 1,2,3] [--trials 12]
 * Writes bench/results/search-sampler.json after every arm.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import {
  builtinBackbones,
  initBackend,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  type ImageDataset,
} from '../libs/ml/src';
import { firstBackbone, searchBackbones } from '../apps/worker/src/training/search/recipe-space';
import { runSearch, type LedgerTrial } from '../apps/worker/src/training/search/search-runner';
import { samplersAgreeFor, type SearchSampler } from '../apps/worker/src/training/search/proposal';
import { cpuSeconds, indexOf, loadBenchDataset, memoryLedger, shapeOf } from './search-common';

const { values } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'food,stamps,fashion' },
    seeds: { type: 'string', default: '1,2,3' },
    trials: { type: 'string', default: '12' },
    out: { type: 'string', default: 'search-sampler.json' },
  },
});

/** What a 'tpe' arm starts from: the trials it shares with the 'random' arm of its seed. */
interface Prefix {
  rows: LedgerTrial[];
  store: InMemoryArtifactStore;
  cpuSeconds: number;
}

async function arm(ds: ImageDataset, sampler: SearchSampler, seed: number, prefix?: Prefix) {
  const index = indexOf(ds);
  const shape = shapeOf(ds, index);
  const zoo = new ModelZoo();
  const store = new InMemoryArtifactStore();
  const ledger = memoryLedger();
  if (prefix) {
    ledger.rows.push(...structuredClone<LedgerTrial[]>(prefix.rows));
    for (const r of prefix.rows)
      for (const key of prefix.store.keys())
        if (key.startsWith(`trials/${r.index}/`)) await store.put(key, await prefix.store.get(key));
  }
  const cpuAtTrialEnd: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const load0 = loadavg()[0];
  const s = await runSearch(
    {
      index,
      shards: { get: () => Promise.resolve(ds.images) },
      zoo,
      shape,
      options: {},
      backbones: searchBackbones(undefined, builtinBackbones(), shape),
      firstBackbone: firstBackbone({}, shape),
      maxTrials: Number(values.trials),
      sampler,
      asha: { minResource: 1, maxResource: 9, eta: 3 },
      seed,
      fit: 'cover',
      nativeBlas: true,
      ledger,
      checkpoints: new MemoryCheckpointStore(),
      writer: store,
      reader: store,
      trialPrefix: (i) => `trials/${i}/`,
      modelPrefix: 'search/',
    },
    {
      signal: new AbortController().signal,
      isBudgetStop: () => false,
      onProgress: () => Promise.resolve(),
      onEpoch: () => Promise.resolve(),
      onTrial: (x) => {
        if (x.status === 'RUNNING') return Promise.resolve();
        cpuAtTrialEnd[x.index] = cpuSeconds(cpu0);
        console.log(`  ${x.message}`);
        return Promise.resolve();
      },
      onBest: () => Promise.resolve(),
    },
  );
  const rung0 = ledger.rows
    .filter((r) => Number(r.params.rung) === 0 && typeof r.metrics?.validationAccuracy === 'number')
    .map((r) => r.metrics!.validationAccuracy as number);
  const shared = sampler === 'random' ? samplersAgreeFor(ledger.rows, accuracyOf) : undefined;
  return {
    sampler,
    seed,
    status: s.status,
    /** This arm's CPU-seconds, with the shared trials' (run once, in the 'random' arm) for 'tpe'. */
    cpuSeconds: Math.round((cpuSeconds(cpu0) + (prefix?.cpuSeconds ?? 0)) * 100) / 100,
    sharedTrials: prefix ? prefix.rows.length : shared,
    next:
      shared === undefined
        ? undefined
        : {
            rows: ledger.rows.filter((r) => r.index < shared),
            store,
            cpuSeconds: shared > 0 ? (cpuAtTrialEnd[shared - 1] ?? 0) : 0,
          },
    wallSeconds: (Date.now() - t0) / 1000,
    loadavg1: { before: load0, after: loadavg()[0] },
    bestTrial: s.best.trial,
    bestValidationAccuracy: s.best.manifest.metrics.validationAccuracy,
    testAccuracy: s.best.report.accuracy,
    meanRung0ValidationAccuracy: rung0.reduce((a, b) => a + b, 0) / Math.max(1, rung0.length),
    trials: ledger.rows.map((r) => ({
      index: r.index,
      status: r.status,
      backbone: r.params.backbone,
      rung: r.params.rung,
      epochs: r.params.epochs,
      validationAccuracy: r.metrics?.validationAccuracy ?? null,
      costSeconds: Math.round(r.costSeconds * 10) / 10,
      params: r.params,
    })),
  };
}

const accuracyOf = (t: LedgerTrial): number | null =>
  t.status === 'SUCCEEDED' && typeof t.metrics?.validationAccuracy === 'number'
    ? t.metrics.validationAccuracy
    : null;

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm', nativeBlas: true });
  const started = new Date().toISOString();
  const runs: Array<Record<string, unknown>> = [];
  const cache = new Map<string, ImageDataset>();
  const file = join(__dirname, 'results', values.out);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  for (const seed of values.seeds.split(',').map(Number))
    for (const name of values.datasets.split(',')) {
      if (!cache.has(name)) cache.set(name, await loadBenchDataset(name));
      const ds = cache.get(name)!;
      let prefix: Prefix | undefined;
      for (const sampler of ['random', 'tpe'] as const) {
        console.log(`${name} seed ${seed} ${sampler}`);
        const { next, ...r } = await arm(ds, sampler, seed, prefix);
        prefix = next;
        console.log(
          `${name} seed ${seed} ${sampler}: val ${r.bestValidationAccuracy}, test ${r.testAccuracy}, ${r.cpuSeconds} CPU-s`,
        );
        runs.push({ dataset: name, images: ds.count, size: ds.height, classes: ds.classNames.length, ...r });
        const out = {
          bench: 'search-sampler',
          started,
          maxTrials: Number(values.trials),
          backend: `${info.name}${info.nativeBlas ? ' + BLAS addon' : ''}`,
          runs,
        };
        writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
      }
    }
}

void main();
