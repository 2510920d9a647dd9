import { applyBinning, fitBinning, type Binning } from './binning';

/**
 * A compact histogram gradient-boosted decision tree learner (the LightGBM / scikit-learn
 * HistGradientBoosting recipe): features binned into at most 255 bins, trees grown leaf-wise
 * (best gain first) from per-node gradient/hessian histograms (the larger child's histogram is the
 * parent's minus the smaller's), second-order leaf values -G/(H+lambda), shrinkage, and early
 * stopping on a validation set's loss. Training rows with the same bin codes on every feature go
 * to the same leaf of every tree, so when many rows repeat they are trained as one weighted row
 * each (their summed gradients, hessians and counts: the same sums, added in another order). Squared error for regression, logistic loss for two classes,
 * softmax (one tree per class per iteration) for more.
 *
 * The trained model is plain JSON: trees with raw-value thresholds (go left when x <= threshold).
 */
export type GbdtObjective = 'regression' | 'binary' | 'multiclass';

export interface GbdtParams {
  objective: GbdtObjective;
  /** Classes for 'multiclass' (>= 3). */
  numClasses?: number;
  learningRate?: number;
  /** Boosting iterations at most. */
  maxIterations?: number;
  maxLeaves?: number;
  /** Depth limit (0 = none). */
  maxDepth?: number;
  minSamplesLeaf?: number;
  /** L2 regularization of leaf values (lambda). */
  l2?: number;
  maxBins?: number;
  /**
   * Fewer bins on small tables: at most one per this many training rows when a feature has more
   * distinct values than that (default 3; 1 = always up to `maxBins`).
   */
  minBinRows?: number;
  /**
   * Train on one weighted row per distinct binned row when that removes at least a fifth of the
   * rows (default true; the same trees up to the order floating-point sums are added in).
   */
  groupRows?: boolean;
  /** Stop when the validation loss has not improved for this many iterations. */
  earlyStoppingRounds?: number;
  /** Relative validation-loss improvement that counts as progress (default 1e-4). */
  tolerance?: number;
  /** Called after each iteration; return false to stop (e.g. a budget ran out). */
  onIteration?: (it: { iteration: number; trainLoss: number; validLoss?: number }) => boolean | void;
}

export interface GbdtTree {
  /** Per node: split feature, or -1 for a leaf. */
  feature: number[];
  /** Per node: go left when x[feature] <= threshold (0 at leaves). */
  threshold: number[];
  left: number[];
  right: number[];
  /** Per node: the leaf's output (shrinkage included; 0 at inner nodes). */
  value: number[];
}

export interface GbdtModel {
  objective: GbdtObjective;
  /** Raw-score outputs: 1 (regression, binary) or the number of classes. */
  numOutputs: number;
  /** Initial raw score per output. */
  baseScore: number[];
  /** trees[iteration][output]. */
  trees: GbdtTree[][];
  /** Total split gain per input feature. */
  gain: number[];
  /** The iteration count kept (best on validation). */
  iterations: number;
  bestValidLoss: number | null;
}

export interface Matrix {
  x: Float64Array;
  rows: number;
  features: number;
}

const MIN_HESS = 1e-3;
const NO_HIST = new Float64Array(0);
const EPS = 1e-15;

/** What training learned besides the model. */
export interface GbdtFitted {
  /**
   * The kept model's predictions on the validation rows, as {@link gbdtPredict} would return them
   * (the same sums, in the same order), when `valid` was given.
   */
  validPredictions?: Float64Array;
}

/**
 * The binned training rows (and their units), and the binned validation rows, of one fit. Classes, not
 * literals, here and for the row groups and target sums: a job's fits keep them (GbdtBinnedCache), and
 * V8 deoptimizes the code allocating at a literal's site once its objects start surviving garbage
 * collection (trainGbdt, groupRows and targetSums were marked for deoptimization in a fresh worker's
 * first job on fair_affairs).
 */
class BinnedData {
  constructor(
    readonly binning: Binning,
    readonly units: RowGroups,
    readonly vbins: Uint8Array | undefined,
  ) {}
}

/**
 * The binning of the last fit's matrices, for the next fit on the same matrices with the same bin
 * settings (a job's GBDT trials differ in the trees' settings only): the bin thresholds, the binned
 * rows and their grouping depend on the matrices and `maxBins`, `minBinRows`, `groupRows` alone.
 * The matrices must not change in between (they are compared by identity).
 */
export class GbdtBinnedCache {
  private train: Matrix | undefined;
  private valid: Matrix | undefined;
  private maxBins = 0;
  private minBinRows = 0;
  private group = false;
  private data: BinnedData | undefined;

  get(
    train: Matrix,
    valid: Matrix | undefined,
    maxBins: number,
    minBinRows: number,
    group: boolean,
  ): BinnedData {
    if (
      this.data &&
      this.train?.x === train.x &&
      this.train.rows === train.rows &&
      this.train.features === train.features &&
      this.valid?.x === valid?.x &&
      this.valid?.rows === valid?.rows &&
      this.maxBins === maxBins &&
      this.minBinRows === minBinRows &&
      this.group === group
    )
      return this.data;
    const n = train.rows;
    const d = train.features;
    const binning = fitBinning(train.x, n, d, maxBins, minBinRows);
    const bins = applyBinning(binning, train.x, n, d);
    const units = (group ? groupRows(bins, n, d, Math.floor(0.8 * n)) : null) ?? eachRow(bins, n);
    const vbins = valid ? applyBinning(binning, valid.x, valid.rows, d) : undefined;
    this.train = train;
    this.valid = valid;
    this.maxBins = maxBins;
    this.minBinRows = minBinRows;
    this.group = group;
    this.data = new BinnedData(binning, units, vbins);
    return this.data;
  }
}

/**
 * Trains a model on `train`, stopping early on `valid` when given; `fitted` (optional) receives
 * the validation predictions; `cache` (optional) keeps the binning for the next fit on the same
 * matrices.
 */
export function trainGbdt(
  train: Matrix,
  target: ArrayLike<number>,
  p: GbdtParams,
  valid?: { m: Matrix; target: ArrayLike<number> },
  fitted?: GbdtFitted,
  cache?: GbdtBinnedCache,
): GbdtModel {
  const n = train.rows;
  const d = train.features;
  const K = p.objective === 'multiclass' ? (p.numClasses ?? 0) : 1;
  if (p.objective === 'multiclass' && K < 3) throw new RangeError('multiclass needs numClasses >= 3');
  if (n === 0) throw new RangeError('no training rows');
  const lr = p.learningRate ?? 0.1;
  const maxIt = p.maxIterations ?? 200;
  const maxLeaves = Math.max(2, p.maxLeaves ?? 31);
  const maxDepth = p.maxDepth ?? 0;
  const minLeaf = Math.max(1, p.minSamplesLeaf ?? 20);
  const lambda = p.l2 ?? 0;
  const patience = p.earlyStoppingRounds ?? 20;
  const tol = p.tolerance ?? 1e-4;

  const data = (cache ?? new GbdtBinnedCache()).get(
    train,
    valid?.m,
    p.maxBins ?? 255,
    p.minBinRows ?? 3,
    p.groupRows !== false,
  );
  const binning = data.binning;
  const offsets = new Int32Array(d + 1);
  for (let f = 0; f < d; f++) offsets[f + 1] = offsets[f] + binning.thresholds[f].length + 1;
  const totalBins = offsets[d];
  // Histogram slot of each (row, feature): the feature's offset plus its bin, so filling a histogram
  // reads one code per cell. Squared error has a constant hessian (1 per row = the count), so its
  // histograms keep [gradient, count] per bin; the other losses [gradient, hessian, count].
  const S = p.objective === 'regression' ? 2 : 3;
  // The rows trained on: every training row, or one per distinct binned row ("units") with its
  // weight (the rows it stands for) and target sums, when that removes at least a fifth of them.
  // One code path either way (a unit per row: weight 1, the same arithmetic as row by row).
  const units = data.units;
  const un = units.count;
  const ubins = units.bins;
  const weight = units.weight;
  const stats = targetSums(units, target, p.objective, K);
  const slots = new Int32Array(un * d);
  for (let i = 0; i < un * d; i++) slots[i] = S * (offsets[i % d] + ubins[i]);
  const histLength = totalBins * S;
  // Histograms freed by finished trees, reused instead of allocating (and zeroing) new ones.
  const pool: Float64Array[] = [];
  const takeHist = () => {
    const h = pool.pop();
    if (!h) return new Float64Array(histLength);
    h.fill(0);
    return h;
  };

  const vm = valid?.m;
  const vbins = data.vbins;
  const vn = vm?.rows ?? 0;

  const baseScore = initialScores(p.objective, target, K);
  const raw = new Float64Array(un * K);
  const vraw = new Float64Array(vn * K);
  for (let i = 0; i < un; i++) for (let k = 0; k < K; k++) raw[i * K + k] = baseScore[k];
  for (let i = 0; i < vn; i++) for (let k = 0; k < K; k++) vraw[i * K + k] = baseScore[k];

  const grad = new Float64Array(un * K);
  const hess = new Float64Array(un * K);
  // The gradients of the output being fitted, one per unit (the same arrays when K = 1).
  const gk = K > 1 ? new Float64Array(un) : grad;
  const hk = K > 1 ? new Float64Array(un) : hess;
  const gain = new Array<number>(d).fill(0);
  // Trees by iteration then output (index it * K + k). The hot loops below allocate no object or
  // array literals: V8 tracks those per allocation site and, once a site's objects start surviving
  // garbage collection (a large table's trees do), changes its pretenuring decision and throws away
  // the optimized code of every function allocating there: a process's first large search then
  // ran mostly unoptimized. Node and split state live in typed arrays sized for one tree.
  const built: TreeBuffer[] = [];
  const idx = new Uint32Array(un);
  const maxNodes = 2 * maxLeaves - 1;
  // A node's units are idx[start, end); it holds `nodeRows` training rows (their weights' sum).
  const nodeStart = new Int32Array(maxNodes);
  const nodeEnd = new Int32Array(maxNodes);
  const nodeRows = new Float64Array(maxNodes);
  const nodeDepth = new Int32Array(maxNodes);
  const nodeG = new Float64Array(maxNodes);
  const nodeH = new Float64Array(maxNodes);
  const nodeHist: Float64Array[] = new Array<Float64Array>(maxNodes).fill(NO_HIST);
  // The node's best split (splitFeature -1: none).
  const splitFeature = new Int32Array(maxNodes);
  const splitBin = new Int32Array(maxNodes);
  const splitGain = new Float64Array(maxNodes);
  const splitGl = new Float64Array(maxNodes);
  const splitHl = new Float64Array(maxNodes);
  const splitRows = new Float64Array(maxNodes);
  // The current leaves' node ids, in order (ties between equal gains go to the first).
  const leaves = new Int32Array(maxLeaves + 1);
  let leafCount = 0;
  let best = Infinity;
  let bestIt = 0;
  let sinceBest = 0;
  // The validation raw scores at the best iteration so far (for `fitted`).
  const bestVraw = new Float64Array(fitted && vm ? vn * K : 0);

  unitGradients(p.objective, raw, stats, K, grad, hess);
  for (let it = 0; it < maxIt; it++) {
    let allLeaves = true;
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < un; i++) idx[i] = i;
      if (K > 1)
        for (let i = 0; i < un; i++) {
          gk[i] = grad[i * K + k];
          hk[i] = hess[i * K + k];
        }
      const tree = buildTree();
      // Training scores: each row's leaf is known from the partition.
      for (let l = 0; l < leafCount; l++) {
        const id = leaves[l];
        const v = tree.value[id];
        for (let j = nodeStart[id]; j < nodeEnd[id]; j++) raw[idx[j] * K + k] += v;
      }
      built.push(tree);
      if (tree.count > 1) allLeaves = false;
    }
    // Validation scores, traversing with bin codes (same decisions as raw thresholds).
    for (let i = 0; i < vn; i++)
      for (let k = 0; k < K; k++) {
        const tree = built[it * K + k];
        let node = 0;
        while (tree.feature[node] >= 0) {
          const f = tree.feature[node];
          node = vbins![i * d + f] <= tree.splitBin[node] ? tree.left[node] : tree.right[node];
        }
        vraw[i * K + k] += tree.value[node];
      }
    const validLoss = vm ? loss(p.objective, vraw, valid.target, K) : undefined;
    // The next iteration's gradients, and the training loss now, in one pass over the rows.
    const trainLoss = unitGradients(p.objective, raw, stats, K, grad, hess);
    const go = p.onIteration?.(new IterationReport(it + 1, trainLoss, validLoss));
    if (validLoss !== undefined) {
      if (bestIt === 0 || validLoss < best - tol * Math.abs(best)) {
        best = validLoss;
        bestIt = it + 1;
        sinceBest = 0;
        if (fitted) bestVraw.set(vraw);
      } else if (++sinceBest >= patience) break;
    } else bestIt = it + 1;
    if (go === false) break;
    // Nothing left to learn: every tree of the round is a single leaf.
    if (allLeaves) break;
  }
  const keptIterations = Math.max(1, bestIt);
  // Importance: split gains of the kept trees only; the exported trees carry no gains.
  // Built without literals too (Array.from, a class): these objects outlive the call.
  for (let i = 0; i < keptIterations * K; i++) {
    const t = built[i];
    for (let node = 0; node < t.count; node++)
      if (t.feature[node] >= 0) gain[t.feature[node]] += t.gain[node];
  }
  const exported = Array.from({ length: keptIterations }, (_, it) =>
    Array.from({ length: K }, (_, k): GbdtTree => new ExportedTree(built[it * K + k])),
  );
  if (fitted && vm && bestIt > 0) fitted.validPredictions = predictionsFromRaw(p.objective, bestVraw, vn, K);
  return {
    objective: p.objective,
    numOutputs: K,
    baseScore,
    trees: exported,
    gain,
    iterations: keptIterations,
    bestValidLoss: vm ? best : null,
  };

  function addNode(
    tree: TreeBuffer,
    start: number,
    end: number,
    rows: number,
    depth: number,
    g: number,
    h: number,
  ): number {
    const id = tree.add();
    nodeStart[id] = start;
    nodeEnd[id] = end;
    nodeRows[id] = rows;
    nodeDepth[id] = depth;
    nodeG[id] = g;
    nodeH[id] = h;
    nodeHist[id] = NO_HIST;
    splitFeature[id] = -1;
    return id;
  }

  function buildTree(): TreeBuffer {
    const tree = new TreeBuffer(maxNodes);
    let G = 0;
    let H = 0;
    for (let i = 0; i < un; i++) {
      G += gk[i];
      H += hk[i];
    }
    const root = addNode(tree, 0, un, n, 0, G, H);
    const rootHist = takeHist();
    fillHist(rootHist, 0, un);
    nodeHist[root] = rootHist;
    bestSplit(root);
    leaves[0] = root;
    leafCount = 1;
    while (leafCount < maxLeaves) {
      let bi = -1;
      for (let i = 0; i < leafCount; i++) {
        const l = leaves[i];
        if (splitFeature[l] >= 0 && (bi < 0 || splitGain[l] > splitGain[leaves[bi]])) bi = i;
      }
      if (bi < 0) break;
      const node = leaves[bi];
      const sf = splitFeature[node];
      const sb = splitBin[node];
      const start = nodeStart[node];
      const end = nodeEnd[node];
      const depth = nodeDepth[node];
      // Partition idx[start, end) into bin <= sb | bin > sb.
      let lo = start;
      let hi = end - 1;
      while (lo <= hi) {
        if (ubins[idx[lo] * d + sf] <= sb) lo++;
        else {
          const t = idx[lo];
          idx[lo] = idx[hi];
          idx[hi] = t;
          hi--;
        }
      }
      const mid = lo;
      // Units (the histograms' cost) and training rows (the leaf-size rule) of each child.
      const leftN = mid - start;
      const rightN = end - mid;
      const leftRows = splitRows[node];
      const rightRows = nodeRows[node] - leftRows;
      let leftHist: Float64Array = NO_HIST;
      let rightHist: Float64Array = NO_HIST;
      // Children too small (or too deep) to split, or made by the tree's last split, need no histogram.
      const last = leafCount + 1 >= maxLeaves;
      if (!last && (splittable(leftRows, depth + 1) || splittable(rightRows, depth + 1))) {
        const leftSmall = leftN <= rightN;
        const smallStart = leftSmall ? start : mid;
        const smallEnd = leftSmall ? mid : end;
        const bigStart = leftSmall ? mid : start;
        const bigEnd = leftSmall ? end : mid;
        const smallHist = takeHist();
        fillHist(smallHist, smallStart, smallEnd);
        const bigHist = nodeHist[node];
        if ((bigEnd - bigStart) * d < totalBins) {
          // Cheaper from its few rows than by subtracting every bin.
          bigHist.fill(0);
          fillHist(bigHist, bigStart, bigEnd);
        } else for (let j = 0; j < bigHist.length; j++) bigHist[j] -= smallHist[j];
        leftHist = leftSmall ? smallHist : bigHist;
        rightHist = leftSmall ? bigHist : smallHist;
      } else if (nodeHist[node].length > 0) pool.push(nodeHist[node]);
      nodeHist[node] = NO_HIST;
      const gl = splitGl[node];
      const hl = splitHl[node];
      const left = addNode(tree, start, mid, leftRows, depth + 1, gl, hl);
      const right = addNode(tree, mid, end, rightRows, depth + 1, nodeG[node] - gl, nodeH[node] - hl);
      nodeHist[left] = leftHist;
      nodeHist[right] = rightHist;
      tree.feature[node] = sf;
      tree.threshold[node] = binning.thresholds[sf][sb];
      tree.left[node] = left;
      tree.right[node] = right;
      tree.gain[node] = splitGain[node];
      tree.splitBin[node] = sb;
      if (!last) {
        bestSplit(left);
        bestSplit(right);
      }
      // Replace the leaf by its children, in place.
      leaves.copyWithin(bi + 2, bi + 1, leafCount);
      leaves[bi] = left;
      leaves[bi + 1] = right;
      leafCount++;
    }
    for (let l = 0; l < leafCount; l++) {
      const leaf = leaves[l];
      tree.value[leaf] = (-nodeG[leaf] / (nodeH[leaf] + lambda + EPS)) * lr;
      if (nodeHist[leaf].length > 0) pool.push(nodeHist[leaf]);
      nodeHist[leaf] = NO_HIST;
    }
    return tree;
  }

  function fillHist(hist: Float64Array, start: number, end: number): void {
    if (S === 2) {
      for (let j = start; j < end; j++) {
        const i = idx[j];
        const g = gk[i];
        const row = i * d;
        const w = weight[i];
        for (let f = 0; f < d; f++) {
          const b = slots[row + f];
          hist[b] += g;
          hist[b + 1] += w;
        }
      }
      return;
    }
    for (let j = start; j < end; j++) {
      const i = idx[j];
      const g = gk[i];
      const h = hk[i];
      const w = weight[i];
      const row = i * d;
      for (let f = 0; f < d; f++) {
        const b = slots[row + f];
        hist[b] += g;
        hist[b + 1] += h;
        hist[b + 2] += w;
      }
    }
  }

  function splittable(count: number, depth: number): boolean {
    return count >= 2 * minLeaf && (maxDepth === 0 || depth < maxDepth);
  }

  /** The best split of a node into its split arrays (splitFeature -1 when none). */
  function bestSplit(node: number): void {
    const count = nodeRows[node];
    splitFeature[node] = -1;
    if (!splittable(count, nodeDepth[node])) return;
    const G = nodeG[node];
    const H = nodeH[node];
    const parent = (G * G) / (H + lambda + EPS);
    const hist = nodeHist[node];
    // The best split so far in scalars (no object per improvement).
    let bestGain = 1e-12;
    let bf = -1;
    let bb = 0;
    let bgl = 0;
    let bhl = 0;
    let bcl = 0;
    for (let f = 0; f < d; f++) {
      const o = S * offsets[f];
      const end = S * (offsets[f + 1] - 1);
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let j = o; j < end; j += S) {
        const c = hist[j + S - 1];
        // An empty bin gives the same split as the bin before it.
        if (c === 0) continue;
        gl += hist[j];
        hl += S === 3 ? hist[j + 1] : c;
        cl += c;
        if (cl < minLeaf) continue;
        if (count - cl < minLeaf) break;
        const hr = H - hl;
        if (hl < MIN_HESS || hr < MIN_HESS) continue;
        const gr = G - gl;
        const gain = 0.5 * ((gl * gl) / (hl + lambda + EPS) + (gr * gr) / (hr + lambda + EPS) - parent);
        if (gain > bestGain) {
          bestGain = gain;
          bf = f;
          bb = (j - o) / S;
          bgl = gl;
          bhl = hl;
          bcl = cl;
        }
      }
    }
    if (bf < 0) return;
    splitFeature[node] = bf;
    splitBin[node] = bb;
    splitGain[node] = bestGain;
    splitGl[node] = bgl;
    splitHl[node] = bhl;
    splitRows[node] = bcl;
  }
}

/** Distinct binned training rows: each row's unit, and per unit its codes and row count. */
class RowGroups {
  constructor(
    readonly count: number,
    /** The unit of each training row. */
    readonly of: Int32Array,
    /** Bin codes [count x features], each unit's first row's. */
    readonly bins: Uint8Array,
    /** Training rows per unit. */
    readonly weight: Float64Array,
  ) {}
}

/**
 * Groups rows with equal bin codes on every feature (open addressing on a hash of the codes); null
 * when there would be more than `maxGroups` (not worth training on groups).
 */
function groupRows(bins: Uint8Array, n: number, d: number, maxGroups: number): RowGroups | null {
  if (maxGroups < 1) return null;
  let size = 1;
  while (size < 2 * maxGroups) size <<= 1;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  // Each unit's first row (a typed array: no literal, see BinnedData).
  const first = new Int32Array(maxGroups);
  let count = 0;
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let h = 0x811c9dc5;
    for (let f = 0; f < d; f++) h = Math.imul(h ^ bins[row + f], 0x01000193);
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const u = table[slot];
      if (u < 0) {
        if (count >= maxGroups) return null;
        table[slot] = count;
        of[i] = count;
        first[count++] = i;
        break;
      }
      const other = first[u] * d;
      let same = true;
      for (let f = 0; f < d; f++)
        if (bins[other + f] !== bins[row + f]) {
          same = false;
          break;
        }
      if (same) {
        of[i] = u;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  const ubins = new Uint8Array(count * d);
  for (let u = 0; u < count; u++) ubins.set(bins.subarray(first[u] * d, first[u] * d + d), u * d);
  const weight = new Float64Array(count);
  for (let i = 0; i < n; i++) weight[of[i]] += 1;
  return new RowGroups(count, of, ubins, weight);
}

/** Every row its own unit. */
function eachRow(bins: Uint8Array, n: number): RowGroups {
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) of[i] = i;
  return new RowGroups(n, of, bins, new Float64Array(n).fill(1));
}

/** Per unit: its rows (`weight`) and target sums (regression: sum and within-unit squared deviations; classes: counts [units x K]). */
class UnitTargets {
  constructor(
    readonly weight: Float64Array,
    readonly sum: Float64Array,
    /** Regression: sum over the unit's rows of (y - unit mean)^2. */
    readonly spread: Float64Array,
    /** Classification: rows of class k in unit u at [u * K + k] (binary: K = 1, the positives). */
    readonly classes: Float64Array,
  ) {}
}

function targetSums(g: RowGroups, y: ArrayLike<number>, objective: GbdtObjective, K: number): UnitTargets {
  const U = g.count;
  const n = g.of.length;
  const sum = new Float64Array(objective === 'regression' ? U : 0);
  const spread = new Float64Array(objective === 'regression' ? U : 0);
  const classes = new Float64Array(objective === 'regression' ? 0 : U * K);
  if (objective === 'regression') {
    for (let i = 0; i < n; i++) sum[g.of[i]] += y[i];
    for (let i = 0; i < n; i++) {
      const u = g.of[i];
      const e = y[i] - sum[u] / g.weight[u];
      spread[u] += e * e;
    }
  } else if (objective === 'binary') {
    for (let i = 0; i < n; i++) if (y[i] === 1) classes[g.of[i]] += 1;
  } else for (let i = 0; i < n; i++) classes[g.of[i] * K + y[i]] += 1;
  return new UnitTargets(g.weight, sum, spread, classes);
}

/**
 * Gradients and hessians at `raw` summed over each unit's rows (they share their raw score), and
 * the mean loss over the training rows there (the same pass; as `loss`). A unit of one row gets
 * exactly that row's gradient, hessian and loss.
 */
function unitGradients(
  objective: GbdtObjective,
  raw: Float64Array,
  t: UnitTargets,
  K: number,
  grad: Float64Array,
  hess: Float64Array,
): number {
  const U = t.weight.length;
  let rows = 0;
  let s = 0;
  if (objective === 'regression') {
    for (let u = 0; u < U; u++) {
      const w = t.weight[u];
      const e = raw[u] - t.sum[u] / w;
      grad[u] = w * raw[u] - t.sum[u];
      hess[u] = w;
      s += 0.5 * (w * e * e + t.spread[u]);
      rows += w;
    }
    return rows ? s / rows : 0;
  }
  if (objective === 'binary') {
    for (let u = 0; u < U; u++) {
      const w = t.weight[u];
      const pos = t.classes[u];
      const p = sigmoid(raw[u]);
      grad[u] = w * p - pos;
      hess[u] = w * Math.max(p * (1 - p), 1e-16);
      if (pos > 0) s -= pos * Math.log(Math.max(1e-15, p));
      if (w > pos) s -= (w - pos) * Math.log(Math.max(1e-15, 1 - p));
      rows += w;
    }
    return rows ? s / rows : 0;
  }
  const p = new Float64Array(K);
  for (let u = 0; u < U; u++) {
    const w = t.weight[u];
    softmaxInto(raw, u * K, K, p);
    for (let k = 0; k < K; k++) {
      const c = t.classes[u * K + k];
      grad[u * K + k] = w * p[k] - c;
      hess[u * K + k] = w * Math.max(p[k] * (1 - p[k]), 1e-16);
      if (c > 0) s -= c * Math.log(Math.max(1e-15, p[k]));
    }
    rows += w;
  }
  return rows ? s / rows : 0;
}

/** A tree being grown: typed arrays for the most nodes it can have, `count` of them used. */
class TreeBuffer {
  count = 0;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  readonly gain: Float64Array;
  /** Per split node: the bin the threshold ends (training and validation rows are binned). */
  readonly splitBin: Int32Array;
  constructor(capacity: number) {
    this.feature = new Int32Array(capacity);
    this.threshold = new Float64Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
    this.gain = new Float64Array(capacity);
    this.splitBin = new Int32Array(capacity);
  }
  /** A new leaf; its id. */
  add(): number {
    const id = this.count++;
    this.feature[id] = -1;
    this.left[id] = -1;
    this.right[id] = -1;
    this.splitBin[id] = -1;
    return id;
  }
}

/** A finished tree as the model keeps it (plain arrays; JSON like the GbdtTree interface). */
class ExportedTree implements GbdtTree {
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
  constructor(t: TreeBuffer) {
    const c = t.count;
    this.feature = Array.from(t.feature.subarray(0, c));
    this.threshold = Array.from(t.threshold.subarray(0, c));
    this.left = Array.from(t.left.subarray(0, c));
    this.right = Array.from(t.right.subarray(0, c));
    this.value = Array.from(t.value.subarray(0, c));
  }
}

/** What `onIteration` receives (a class: no per-iteration literal in the boosting loop). */
class IterationReport {
  constructor(
    readonly iteration: number,
    readonly trainLoss: number,
    readonly validLoss: number | undefined,
  ) {}
}

function initialScores(objective: GbdtObjective, y: ArrayLike<number>, K: number): number[] {
  const n = y.length;
  if (objective === 'regression') {
    let s = 0;
    for (let i = 0; i < n; i++) s += y[i];
    return [s / n];
  }
  if (objective === 'binary') {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i] === 1 ? 1 : 0;
    const p = Math.min(1 - 1e-6, Math.max(1e-6, pos / n));
    return [Math.log(p / (1 - p))];
  }
  const counts = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++) counts[y[i]]++;
  return counts.map((c) => Math.log(Math.max(c, 1e-6) / n));
}

/** Mean loss: squared error / 2 (regression), log loss (classification). */
function loss(objective: GbdtObjective, raw: Float64Array, y: ArrayLike<number>, K: number): number {
  const n = y.length;
  if (n === 0) return 0;
  let s = 0;
  if (objective === 'regression') {
    for (let i = 0; i < n; i++) s += 0.5 * (raw[i] - y[i]) ** 2;
  } else if (objective === 'binary') {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]);
      s -= Math.log(Math.max(1e-15, y[i] === 1 ? p : 1 - p));
    }
  } else {
    const p = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      softmaxInto(raw, i * K, K, p);
      s -= Math.log(Math.max(1e-15, p[y[i]]));
    }
  }
  return s / n;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export function softmaxInto(
  raw: ArrayLike<number>,
  offset: number,
  K: number,
  out: Float64Array | number[],
): void {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, raw[offset + k]);
  let s = 0;
  for (let k = 0; k < K; k++) {
    out[k] = Math.exp(raw[offset + k] - m);
    s += out[k];
  }
  for (let k = 0; k < K; k++) out[k] /= s;
}

/** Raw scores [rows x numOutputs] of a trained model on raw (unbinned) features. */
export function gbdtRawScores(model: GbdtModel, m: Matrix): Float64Array {
  const K = model.numOutputs;
  const out = new Float64Array(m.rows * K);
  for (let i = 0; i < m.rows; i++) {
    const row = i * m.features;
    for (let k = 0; k < K; k++) {
      let s = model.baseScore[k];
      for (const round of model.trees) {
        const t = round[k];
        let node = 0;
        while (t.feature[node] >= 0)
          node = m.x[row + t.feature[node]] <= t.threshold[node] ? t.left[node] : t.right[node];
        s += t.value[node];
      }
      out[i * K + k] = s;
    }
  }
  return out;
}

/** Predictions: regression values [rows], or class probabilities [rows x classes]. */
export function gbdtPredict(model: GbdtModel, m: Matrix): Float64Array {
  return predictionsFromRaw(model.objective, gbdtRawScores(model, m), m.rows, model.numOutputs);
}

/** Raw scores [rows x K] to predictions: the values (regression) or class probabilities. */
function predictionsFromRaw(
  objective: GbdtObjective,
  raw: Float64Array,
  rows: number,
  K: number,
): Float64Array {
  if (objective === 'regression') return raw;
  if (objective === 'binary') {
    const out = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      const p = sigmoid(raw[i]);
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }
  const out = new Float64Array(rows * K);
  const p = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    softmaxInto(raw, i * K, K, p);
    out.set(p, i * K);
  }
  return out;
}
