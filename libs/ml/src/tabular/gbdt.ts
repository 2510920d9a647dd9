import { applyBinning, fitBinning, type Binning } from './binning';

/**
 * A compact histogram gradient-boosted decision tree learner (the LightGBM / scikit-learn
 * HistGradientBoosting recipe): features binned into at most 255 bins, trees grown leaf-wise
 * (best gain first) from per-node gradient/hessian histograms (the larger child's histogram is the
 * parent's minus the smaller's), second-order leaf values -G/(H+lambda), shrinkage, and early
 * stopping on a validation set's loss. Squared error for regression, logistic loss for two classes,
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
 * Trains a model on `train`, stopping early on `valid` when given; `fitted` (optional) receives
 * the validation predictions.
 */
export function trainGbdt(
  train: Matrix,
  target: ArrayLike<number>,
  p: GbdtParams,
  valid?: { m: Matrix; target: ArrayLike<number> },
  fitted?: GbdtFitted,
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

  const binning: Binning = fitBinning(train.x, n, d, p.maxBins ?? 255, p.minBinRows ?? 3);
  const bins = applyBinning(binning, train.x, n, d);
  const offsets = new Int32Array(d + 1);
  for (let f = 0; f < d; f++) offsets[f + 1] = offsets[f] + binning.thresholds[f].length + 1;
  const totalBins = offsets[d];
  // Histogram slot of each (row, feature): the feature's offset plus its bin, so filling a histogram
  // reads one code per cell. Squared error has a constant hessian (1 per row = the count), so its
  // histograms keep [gradient, count] per bin; the other losses [gradient, hessian, count].
  const S = p.objective === 'regression' ? 2 : 3;
  const slots = new Int32Array(n * d);
  for (let i = 0; i < n * d; i++) slots[i] = S * (offsets[i % d] + bins[i]);
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
  const vbins = vm ? applyBinning(binning, vm.x, vm.rows, d) : undefined;
  const vn = vm?.rows ?? 0;

  const baseScore = initialScores(p.objective, target, K);
  const raw = new Float64Array(n * K);
  const vraw = new Float64Array(vn * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) raw[i * K + k] = baseScore[k];
  for (let i = 0; i < vn; i++) for (let k = 0; k < K; k++) vraw[i * K + k] = baseScore[k];

  const grad = new Float64Array(n * K);
  const hess = new Float64Array(n * K);
  // The gradients of the output being fitted, one per row (the same arrays when K = 1).
  const gk = K > 1 ? new Float64Array(n) : grad;
  const hk = K > 1 ? new Float64Array(n) : hess;
  const gain = new Array<number>(d).fill(0);
  // Trees by iteration then output (index it * K + k). The hot loops below allocate no object or
  // array literals: V8 tracks those per allocation site and, once a site's objects start surviving
  // garbage collection (a large table's trees do), changes its pretenuring decision and throws away
  // the optimized code of every function allocating there: a process's first large search then
  // ran mostly unoptimized. Node and split state live in typed arrays sized for one tree.
  const built: TreeBuffer[] = [];
  const idx = new Uint32Array(n);
  const maxNodes = 2 * maxLeaves - 1;
  const nodeStart = new Int32Array(maxNodes);
  const nodeEnd = new Int32Array(maxNodes);
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
  // The current leaves' node ids, in order (ties between equal gains go to the first).
  const leaves = new Int32Array(maxLeaves + 1);
  let leafCount = 0;
  let best = Infinity;
  let bestIt = 0;
  let sinceBest = 0;
  // The validation raw scores at the best iteration so far (for `fitted`).
  const bestVraw = new Float64Array(fitted && vm ? vn * K : 0);

  gradients(p.objective, raw, target, K, grad, hess);
  for (let it = 0; it < maxIt; it++) {
    let allLeaves = true;
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) idx[i] = i;
      if (K > 1)
        for (let i = 0; i < n; i++) {
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
    const trainLoss = gradients(p.objective, raw, target, K, grad, hess);
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
    depth: number,
    g: number,
    h: number,
  ): number {
    const id = tree.add();
    nodeStart[id] = start;
    nodeEnd[id] = end;
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
    for (let i = 0; i < n; i++) {
      G += gk[i];
      H += hk[i];
    }
    const root = addNode(tree, 0, n, 0, G, H);
    const rootHist = takeHist();
    fillHist(rootHist, 0, n);
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
        if (bins[idx[lo] * d + sf] <= sb) lo++;
        else {
          const t = idx[lo];
          idx[lo] = idx[hi];
          idx[hi] = t;
          hi--;
        }
      }
      const mid = lo;
      const leftN = mid - start;
      const rightN = end - mid;
      let leftHist: Float64Array = NO_HIST;
      let rightHist: Float64Array = NO_HIST;
      // Children too small (or too deep) to split, or made by the tree's last split, need no histogram.
      const last = leafCount + 1 >= maxLeaves;
      if (!last && (splittable(leftN, depth + 1) || splittable(rightN, depth + 1))) {
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
      const left = addNode(tree, start, mid, depth + 1, gl, hl);
      const right = addNode(tree, mid, end, depth + 1, nodeG[node] - gl, nodeH[node] - hl);
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
        for (let f = 0; f < d; f++) {
          const b = slots[row + f];
          hist[b] += g;
          hist[b + 1] += 1;
        }
      }
      return;
    }
    for (let j = start; j < end; j++) {
      const i = idx[j];
      const g = gk[i];
      const h = hk[i];
      const row = i * d;
      for (let f = 0; f < d; f++) {
        const b = slots[row + f];
        hist[b] += g;
        hist[b + 1] += h;
        hist[b + 2] += 1;
      }
    }
  }

  function splittable(count: number, depth: number): boolean {
    return count >= 2 * minLeaf && (maxDepth === 0 || depth < maxDepth);
  }

  /** The best split of a node into its split arrays (splitFeature -1 when none). */
  function bestSplit(node: number): void {
    const count = nodeEnd[node] - nodeStart[node];
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
        }
      }
    }
    if (bf < 0) return;
    splitFeature[node] = bf;
    splitBin[node] = bb;
    splitGain[node] = bestGain;
    splitGl[node] = bgl;
    splitHl[node] = bhl;
  }
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

/** Gradients and hessians at `raw`, and the mean loss there (the same pass; as `loss`). */
function gradients(
  objective: GbdtObjective,
  raw: Float64Array,
  y: ArrayLike<number>,
  K: number,
  grad: Float64Array,
  hess: Float64Array,
): number {
  const n = y.length;
  let s = 0;
  if (objective === 'regression') {
    for (let i = 0; i < n; i++) {
      grad[i] = raw[i] - y[i];
      hess[i] = 1;
      s += 0.5 * (raw[i] - y[i]) ** 2;
    }
    return n ? s / n : 0;
  }
  if (objective === 'binary') {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]);
      grad[i] = p - (y[i] === 1 ? 1 : 0);
      hess[i] = Math.max(p * (1 - p), 1e-16);
      s -= Math.log(Math.max(1e-15, y[i] === 1 ? p : 1 - p));
    }
    return n ? s / n : 0;
  }
  const p = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    softmaxInto(raw, i * K, K, p);
    for (let k = 0; k < K; k++) {
      grad[i * K + k] = p[k] - (y[i] === k ? 1 : 0);
      hess[i * K + k] = Math.max(p[k] * (1 - p[k]), 1e-16);
    }
    s -= Math.log(Math.max(1e-15, p[y[i]]));
  }
  return n ? s / n : 0;
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
