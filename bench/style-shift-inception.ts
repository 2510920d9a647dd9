/**
 * Does the zoo's other pretrained backbone, InceptionV3 (nsfwjs, 299 px, pooled `mixed10`: 2,048
 * values), give frozen features that carry across the style shift of bench/style-shift.ts better
 * than MobileNetV2's, alone or joined with them, and what does its pass cost? The same data
 * (openclipart-png, public domain; tuxpaint-stamps-default, GPL-2; 5 shared classes, 64 px, upscaled
 * bilinearly to the backbone's input) and the same heads as bench/style-shift-robust.ts (softmax
 * layer on standardized features, Adam 1e-3, batch 32, <= 25 epochs, seeded initializer), trained on
 * the image alone.
 *
 * Choice: 5-fold stratified cross-validation on the source style (seed 7), one rule for both tasks
 * (best mean of the two tasks' CV accuracies). The other-style set is touched once, after the
 * choice: each feature set's head trained on the whole source set for its CV-chosen epochs.
 * Cost: process CPU-seconds of each backbone's pass over the 1,405 images (batches of 8), per image.
 *
 * Usage: nice npx tsx bench/style-shift-inception.ts [--cache /tmp/ss-cache] [--size 299]
 *   [--json bench/results/style-shift-inception.json]
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { ModelZoo, buildFeatureExtractor, initBackend, normalizePixels } from '../libs/ml/src';
import type { ImageDataset } from '../libs/ml/src/data/image-dataset';
import { CLASSES, cpuSeconds, log, stratifiedFolds } from './style-shift-data';
import { styleShiftFeatures, type StyleShiftSets } from './style-shift-features';

const { values } = parseArgs({
  options: {
    cache: { type: 'string', default: '/tmp/ss-cache' },
    size: { type: 'string', default: '299' },
    /** Only the clip art of these of 7 stratified folds (seed 7), e.g. 2 for ~2/7 of it: the pass costs ~0.5 CPU-s an image. */
    'clipart-folds': { type: 'string' },
    json: { type: 'string', default: join(__dirname, 'results', 'style-shift-inception.json') },
  },
});
const SIZE = Number(values.size);
const EPOCHS = 25;
const FOLDS = 5;
const MNV2_LAST = 1280;

/** InceptionV3's pooled mixed10 features at SIZE px of each image, cached; with the pass's CPU-seconds. */
async function inceptionFeatures(
  name: string,
  ds: ImageDataset,
  zoo: ModelZoo,
): Promise<{ f: Float32Array; cpu: number | null }> {
  const file = join(values.cache, `${name}-${ds.count}-image-${SIZE}-inception.f32`);
  if (existsSync(file)) {
    const b = readFileSync(file);
    return { f: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), cpu: null };
  }
  const backbone = await zoo.load('inception_v3', { inputSize: { height: SIZE, width: SIZE, channels: 3 } });
  const extractor = buildFeatureExtractor(backbone);
  const dim = extractor.outputs[0].shape[1] as number;
  const size = ds.height * ds.width * 3;
  const out = new Float32Array(ds.count * dim);
  const cpu0 = cpuSeconds();
  for (let s = 0; s < ds.count; s += 8) {
    const n = Math.min(8, ds.count - s);
    const px = normalizePixels(ds.images.subarray(s * size, (s + n) * size), 3, backbone.spec.normalization);
    const f = tf.tidy(() =>
      extractor.predict(tf.image.resizeBilinear(tf.tensor4d(px, [n, ds.height, ds.width, 3]), [SIZE, SIZE])),
    ) as tf.Tensor;
    out.set(await f.data(), s * dim);
    f.dispose();
    if (s % 160 === 0) log(`inception ${name} ${s}/${ds.count} (${(cpuSeconds() - cpu0).toFixed(0)} CPU-s)`);
  }
  const cpu = cpuSeconds() - cpu0;
  extractor.dispose();
  await mkdir(values.cache, { recursive: true });
  await writeFile(file, Buffer.from(out.buffer));
  await writeFile(`${file}.cpu.json`, JSON.stringify({ cpuSeconds: cpu, images: ds.count }));
  return { f: out, cpu };
}

const KINDS = ['mnv2-last', 'mnv2-multi', 'inception', 'inception+mnv2-multi'] as const;
type Kind = (typeof KINDS)[number];

/** Row i of the kind's features. */
function rowsOf(kind: Kind, mnv2: Float32Array, inc: Float32Array, count: number, idx: number[]) {
  const mDim = mnv2.length / count;
  const iDim = inc.length / count;
  const parts: Array<(i: number) => Float32Array> = [];
  if (kind === 'mnv2-last') parts.push((i) => mnv2.subarray((i + 1) * mDim - MNV2_LAST, (i + 1) * mDim));
  if (kind === 'mnv2-multi' || kind === 'inception+mnv2-multi')
    parts.push((i) => mnv2.subarray(i * mDim, (i + 1) * mDim));
  if (kind === 'inception' || kind === 'inception+mnv2-multi')
    parts.push((i) => inc.subarray(i * iDim, (i + 1) * iDim));
  const dim = parts.reduce((s, p) => s + p(0).length, 0);
  const x = new Float32Array(idx.length * dim);
  idx.forEach((i, r) => {
    let o = r * dim;
    for (const p of parts) {
      const v = p(i);
      x.set(v, o);
      o += v.length;
    }
  });
  return { x, dim };
}

/** Accuracy on `te` after each epoch of a softmax head trained on `tr` (features standardized on `tr`). */
async function curve(
  tr: { x: Float32Array; dim: number },
  trLabels: number[],
  te: { x: Float32Array },
  teLabels: number[],
  epochs: number,
): Promise<number[]> {
  const { dim } = tr;
  const rows = trLabels.length;
  const mean = new Float32Array(dim);
  const sd = new Float32Array(dim);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) mean[d] += tr.x[r * dim + d] / rows;
  for (let r = 0; r < rows; r++)
    for (let d = 0; d < dim; d++) sd[d] += (tr.x[r * dim + d] - mean[d]) ** 2 / rows;
  for (let d = 0; d < dim; d++) sd[d] = Math.sqrt(sd[d]) + 1e-3;
  const std = (x: Float32Array) => x.map((v, k) => (v - mean[k % dim]) / sd[k % dim]);
  const xs = tf.tensor2d(std(tr.x), [rows, dim]);
  const ys = tf.oneHot(tf.tensor1d(trLabels, 'int32'), CLASSES.length);
  const xe = tf.tensor2d(std(te.x), [teLabels.length, dim]);
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [dim],
        units: CLASSES.length,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1234 }),
      }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const acc: number[] = [];
  for (let e = 0; e < epochs; e++) {
    await m.fit(xs, ys, { epochs: 1, batchSize: 32, shuffle: true, verbose: 0 });
    const pred = tf.tidy(() => (m.predict(xe) as tf.Tensor).argMax(1).dataSync());
    acc.push(teLabels.filter((l, i) => pred[i] === l).length / teLabels.length);
  }
  tf.dispose([xs, ys, xe]);
  m.dispose();
  return acc;
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  await initBackend({ prefer: 'wasm' });
  const full = await styleShiftFeatures(values.cache, ['image']);
  const { featureCpuSeconds } = full;
  const sets = { ...full.sets };
  const feats = { clipart: { ...full.feats.clipart }, stamps: { ...full.feats.stamps } };
  if (values['clipart-folds']) {
    const k = Number(values['clipart-folds']);
    const ds = full.sets.clipart;
    const fold = stratifiedFolds(ds, 7);
    const keep = [...Array(ds.count).keys()].filter((i) => fold[i] < k);
    const px = ds.height * ds.width * ds.channels;
    const dim = full.feats.clipart.image.length / ds.count;
    const images = new Uint8Array(keep.length * px);
    const f = new Float32Array(keep.length * dim);
    keep.forEach((i, r) => {
      images.set(ds.images.subarray(i * px, (i + 1) * px), r * px);
      f.set(full.feats.clipart.image.subarray(i * dim, (i + 1) * dim), r * dim);
    });
    sets.clipart = { ...ds, count: keep.length, images, labels: Uint8Array.from(keep, (i) => ds.labels[i]) };
    feats.clipart.image = f;
    log(`clip art: ${keep.length} of ${ds.count} images (folds < ${k} of 7)`);
  }
  const zoo = new ModelZoo();
  const inc = {} as Record<keyof StyleShiftSets, Float32Array>;
  const cost: Record<string, { cpuSeconds: number; images: number } | null> = {};
  for (const name of ['stamps', 'clipart'] as const) {
    const r = await inceptionFeatures(name, sets[name], zoo);
    inc[name] = r.f;
    const side = join(values.cache, `${name}-${sets[name].count}-image-${SIZE}-inception.f32.cpu.json`);
    cost[name] = existsSync(side)
      ? (JSON.parse(readFileSync(side, 'utf8')) as { cpuSeconds: number; images: number })
      : null;
    log(`inception ${name}: ${JSON.stringify(cost[name])} (load ${loadavg()[0].toFixed(1)})`);
  }
  const all = (n: number) => [...Array(n).keys()];
  const cv: Record<string, Record<Kind, number[]>> = {};
  for (const src of ['clipart', 'stamps'] as const) {
    const ds = sets[src];
    const fold = stratifiedFolds(ds, FOLDS);
    cv[src] = {} as Record<Kind, number[]>;
    for (const kind of KINDS) {
      const sums = new Array<number>(EPOCHS).fill(0);
      for (let k = 0; k < FOLDS; k++) {
        const tr = all(ds.count).filter((i) => fold[i] !== k);
        const te = all(ds.count).filter((i) => fold[i] === k);
        const c = await curve(
          rowsOf(kind, feats[src].image, inc[src], ds.count, tr),
          tr.map((i) => ds.labels[i]),
          rowsOf(kind, feats[src].image, inc[src], ds.count, te),
          te.map((i) => ds.labels[i]),
          EPOCHS,
        );
        c.forEach((v, e) => (sums[e] += (v * te.length) / ds.count));
      }
      cv[src][kind] = sums;
      log(`${src} ${kind}: CV ${Math.max(...sums).toFixed(4)}`);
    }
  }
  const best = (c: number[]) => ({ accuracy: Math.max(...c), epochs: c.indexOf(Math.max(...c)) + 1 });
  const table = KINDS.map((kind) => ({
    kind,
    clipart: best(cv.clipart[kind]),
    stamps: best(cv.stamps[kind]),
    mean: (best(cv.clipart[kind]).accuracy + best(cv.stamps[kind]).accuracy) / 2,
  }));
  const chosen = table.reduce((a, b) => (b.mean > a.mean ? b : a)).kind;
  log(`chosen on source-style CV: ${chosen}`);
  const rows = [];
  for (const [src, dst] of [
    ['clipart', 'stamps'],
    ['stamps', 'clipart'],
  ] as const) {
    const other: Record<string, { epochs: number; accuracy: number }> = {};
    for (const kind of KINDS) {
      const epochs = best(cv[src][kind]).epochs;
      const c = await curve(
        rowsOf(kind, feats[src].image, inc[src], sets[src].count, all(sets[src].count)),
        [...sets[src].labels],
        rowsOf(kind, feats[dst].image, inc[dst], sets[dst].count, all(sets[dst].count)),
        [...sets[dst].labels],
        epochs,
      );
      other[kind] = { epochs, accuracy: c[epochs - 1] };
      log(`${src} -> ${dst}: ${kind}: other style ${other[kind].accuracy.toFixed(4)}`);
    }
    rows.push({ train: src, otherStyle: dst, other });
  }
  const out = {
    bench: 'style-shift-inception',
    started,
    finished: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverage1AtEnd: loadavg()[0] },
    inceptionInput: SIZE,
    clipartImages: sets.clipart.count,
    mobilenetFeatureCpuSeconds: featureCpuSeconds,
    inceptionPass: cost,
    choice: `${FOLDS}-fold stratified cross-validation on the source style (seed 7), softmax layer on standardized features, Adam 1e-3, batch 32, <= ${EPOCHS} epochs, image view only; best mean of the two tasks`,
    cv: table.sort((a, b) => b.mean - a.mean),
    chosen,
    rows,
  };
  await mkdir(dirname(values.json), { recursive: true });
  await writeFile(values.json, `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
