import type { DynamicsValues } from '../train/dynamics';

/**
 * Label-quality scores from training dynamics (plain TypeScript, no tfjs):
 *
 * - AUM, area under the margin (Pleiss et al. 2020, "Identifying Mislabeled Data using the Area Under
 *   the Margin Ranking"): the mean over epochs of (assigned logit - largest other logit). Mislabeled
 *   samples are fitted late, if at all, so their margins stay low or negative.
 * - Dataset cartography (Swayamdipta et al. 2020): confidence = mean probability of the assigned label
 *   over epochs, variability = its standard deviation, correctness = the fraction of epochs the
 *   sample was classified as its assigned label. Low confidence and low variability is "hard to
 *   learn", where mislabeled samples concentrate.
 *
 * Epochs in which a sample was not seen (NaN) are skipped; `fromEpoch` drops the first epochs.
 */
export interface SampleScores {
  /** Sample id (index into the tracked samples). */
  id: number;
  /** The label the sample was trained with (-1 when never seen). */
  label: number;
  /** Epochs the sample was seen in. */
  epochs: number;
  aum: number;
  confidence: number;
  variability: number;
  correctness: number;
  /** The class the model most often preferred over the assigned label (its "believed" label). */
  believed: number;
  /** Mean probability of the assigned label in the last recorded epoch. */
  lastProb: number;
}

export interface ScoreOptions {
  /** Ignore epochs before this one (default 0). */
  fromEpoch?: number;
}

/** Per-sample AUM and cartography scores of everything recorded. */
export function sampleScores(d: DynamicsValues, opts: ScoreOptions = {}): SampleScores[] {
  const from = Math.max(0, Math.min(opts.fromEpoch ?? 0, d.epochs));
  const out: SampleScores[] = [];
  const votes = new Float64Array(d.classes);
  for (let id = 0; id < d.samples; id++) {
    let n = 0;
    let sumMargin = 0;
    let sumProb = 0;
    let sumSq = 0;
    let correct = 0;
    let lastProb = NaN;
    votes.fill(0);
    for (let e = from; e < d.epochs; e++) {
      const at = e * d.samples + id;
      const p = d.prob[at];
      const m = d.margin[at];
      if (Number.isNaN(p) || Number.isNaN(m)) continue;
      n++;
      sumMargin += m;
      sumProb += p;
      sumSq += p * p;
      if (m > 0) correct++;
      lastProb = p;
      const k = d.other[at];
      // The other class's weight: how strongly it beat (or nearly beat) the assigned label.
      if (k >= 0) votes[k] += Math.exp(Math.min(0, -m));
    }
    const mean = n ? sumProb / n : NaN;
    let believed = d.label[id];
    let bestVote = 0;
    for (let k = 0; k < d.classes; k++) {
      if (votes[k] > bestVote) {
        bestVote = votes[k];
        believed = k;
      }
    }
    out.push({
      id,
      label: d.label[id],
      epochs: n,
      aum: n ? sumMargin / n : NaN,
      confidence: mean,
      variability: n ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : NaN,
      correctness: n ? correct / n : NaN,
      // Where the assigned label usually wins, the model believes it.
      believed: n && correct / n >= 0.5 ? d.label[id] : believed,
      lastProb,
    });
  }
  return out;
}

export interface SuspectOptions extends ScoreOptions {
  /**
   * Samples whose AUM is below this are suspected. Default 'auto': the lower of 0 (the assigned label
   * loses on average) and the AUM where a two-component Gaussian mixture fitted to all AUMs gives the
   * low component the larger posterior ({@link mixtureThreshold}).
   */
  threshold?: number | 'auto';
  /** At most this many suspects, most suspect first ({@link mislabelRanking}; default 100). */
  limit?: number;
  /**
   * A second, held-out opinion per sample id ({@link crossFitScores}' margin: log p(given) - max log
   * p(other) of a model that never trained on the sample). When given, a sample is suspected only when
   * both agree: AUM below the threshold and a held-out margin below 0 (another class wins). Measured
   * on food photos and Tux Paint stamps with 20% injected noise (bench/mislabel-clean.ts), removing
   * this agreed set recovers more of the accuracy the noise cost than removing every low-AUM sample,
   * which also throws away hard but correctly labeled samples.
   */
  heldOutMargin?: ArrayLike<number>;
  /**
   * The held-out opinion the suspects are ordered by (lower = more suspect, one per sample id;
   * {@link crossFitScores}' `classScore`); default `heldOutMargin`. Only with `heldOutMargin`.
   */
  heldOutScore?: ArrayLike<number>;
  /**
   * With `heldOutMargin`: how many samples to suspect — an estimate of the mislabeled count, e.g.
   * confident learning's off-diagonal count (the samples whose {@link crossFitScores} `confident`
   * class is another label). When given, the suspects are that many samples, lowest held-out score
   * (`heldOutScore`, default `heldOutMargin`) first, ties by lower AUM, whatever their AUM: this
   * replaces the agreement rule above. Measured on food photos and Tux Paint stamps with 20% symmetric
   * noise (bench/mislabel-detect.ts, docs/interpretability.md): with the held-out margin of the
   * mirror-view logistic models averaged with neighbour votes, removing this many recovers more of the
   * noise's cost than the agreement rule, and AUM adds nothing to that held-out ranking's AUROC; the
   * worker passes 0.65 of the issue count (`suspectCount`, cross-fit.ts; bench/mislabel-rotate.ts).
   */
  heldOutCount?: number;
}

export interface MislabelReport {
  /** Samples scored (seen in at least one counted epoch). */
  scored: number;
  /** Epochs the scores average over. */
  epochs: number;
  threshold: number;
  /** Samples below the threshold (all of them, not only the listed ones). */
  suspected: number;
  /**
   * The `limit` most suspect, first: lowest AUM first, or with `heldOutMargin` highest
   * {@link mislabelRanking} first, or with `heldOutCount` lowest held-out score first.
   */
  suspects: SampleScores[];
  /** Fraction of suspected samples per assigned class (index = class). */
  suspectedByClass: number[];
}

/**
 * Suspected mislabeled samples, bounded: AUM below the threshold, lowest first; with a held-out
 * opinion, those it agrees on, or with `heldOutCount` that many by the held-out score alone.
 */
export function suspectMislabeled(d: DynamicsValues, opts: SuspectOptions = {}): MislabelReport {
  const limit = Math.max(0, Math.floor(opts.limit ?? 100));
  const scores = sampleScores(d, opts).filter((s) => s.epochs > 0);
  const t = opts.threshold ?? 'auto';
  const threshold = t === 'auto' ? Math.min(0, mixtureThreshold(scores.map((s) => s.aum)) ?? 0) : t;
  const held = opts.heldOutMargin;
  if (held && held.length !== d.samples) throw new RangeError('heldOutMargin must have one value per sample');
  const order = held ? (opts.heldOutScore ?? held) : undefined;
  if (order && order.length !== d.samples)
    throw new RangeError('heldOutScore must have one value per sample');
  const rank = order
    ? mislabelRanking(
        scores.map((s) => s.aum),
        scores.map((s) => order[s.id]),
      )
    : undefined;
  const suspicion = new Map(scores.map((s, i) => [s.id, rank ? rank[i] : -s.aum]));
  const count =
    held && order && opts.heldOutCount !== undefined ? Math.max(0, Math.floor(opts.heldOutCount)) : undefined;
  const below =
    count !== undefined && order
      ? [...scores].sort((a, b) => order[a.id] - order[b.id] || a.aum - b.aum || a.id - b.id).slice(0, count)
      : scores
          .filter((s) => s.aum < threshold && (!held || held[s.id] < 0))
          .sort(
            (a, b) => (suspicion.get(b.id) ?? 0) - (suspicion.get(a.id) ?? 0) || a.aum - b.aum || a.id - b.id,
          );
  const perClass = new Array<number>(d.classes).fill(0);
  const flagged = new Array<number>(d.classes).fill(0);
  for (const s of scores) if (s.label >= 0) perClass[s.label]++;
  for (const s of below) if (s.label >= 0) flagged[s.label]++;
  return {
    scored: scores.length,
    epochs: Math.max(0, d.epochs - (opts.fromEpoch ?? 0)),
    threshold,
    suspected: below.length,
    suspects: below.slice(0, limit),
    suspectedByClass: flagged.map((f, k) => (perClass[k] ? f / perClass[k] : 0)),
  };
}

/**
 * How suspect each sample's label is (higher = more), from its AUM and a held-out score (lower = more
 * suspect: {@link crossFitScores}' `classScore` or `margin`): the mean of the two scores' normalized
 * ranks (average ranks for ties, in (0, 1]), low AUM and low held-out score ranking high. Measured on
 * food photos and Tux Paint stamps with 20% symmetric noise (bench/mislabel-clean.ts
 * --features=multi, docs/interpretability.md).
 */
export function mislabelRanking(aum: ArrayLike<number>, heldOutScore: ArrayLike<number>): Float64Array {
  const n = aum.length;
  if (heldOutScore.length !== n) throw new RangeError('aum and heldOutScore differ in length');
  const a = normalizedRanks(Array.from(aum, (x) => -x));
  const b = normalizedRanks(Array.from(heldOutScore, (x) => -x));
  return a.map((r, i) => (r + b[i]) / 2);
}

/** Ranks of `x` (1 = smallest, ties get their average rank) divided by its length. */
function normalizedRanks(x: readonly number[]): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i] - x[j]);
  const out = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    for (let k = i; k <= j; k++) out[order[k]] = (i + j + 2) / 2 / n;
    i = j + 1;
  }
  return out;
}

/**
 * Area under the ROC curve of `scores` (higher = more positive) against `positive` labels: the
 * probability that a random positive scores above a random negative (ties count half). NaN when one
 * class is empty. O(n log n).
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  if (positive.length !== n) throw new RangeError('scores and labels differ in length');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]]) {
        pos++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * The value between the two means of a two-component 1-D Gaussian mixture (fitted by EM) where the
 * lower component's posterior falls to one half: the natural cut between "fitted" and "not fitted"
 * samples. Null when there are too few values or the fit collapses to one component.
 */
export function mixtureThreshold(values: readonly number[], iterations = 200): number | null {
  const x = values.filter((v) => Number.isFinite(v));
  const n = x.length;
  if (n < 10) return null;
  const sorted = [...x].sort((a, b) => a - b);
  const q = (f: number) => sorted[Math.min(n - 1, Math.floor(f * n))];
  let mu = [q(0.1), q(0.9)];
  const spread = Math.max(1e-6, (q(0.9) - q(0.1)) / 4);
  let sd = [spread, spread];
  let w = [0.5, 0.5];
  const pdf = (v: number, k: number) => (w[k] / sd[k]) * Math.exp(-0.5 * ((v - mu[k]) / sd[k]) ** 2);
  const resp = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      const a = pdf(x[i], 0);
      const b = pdf(x[i], 1);
      resp[i] = a + b > 0 ? a / (a + b) : x[i] < (mu[0] + mu[1]) / 2 ? 1 : 0;
    }
    const next = [0, 1].map((k) => {
      let wk = 0;
      let m = 0;
      for (let i = 0; i < n; i++) {
        const r = k === 0 ? resp[i] : 1 - resp[i];
        wk += r;
        m += r * x[i];
      }
      if (wk < 1e-9) return null;
      m /= wk;
      let v = 0;
      for (let i = 0; i < n; i++) v += (k === 0 ? resp[i] : 1 - resp[i]) * (x[i] - m) ** 2;
      return { w: wk / n, mu: m, sd: Math.max(1e-3, Math.sqrt(v / wk)) };
    });
    const [c0, c1] = next;
    if (!c0 || !c1) return null;
    mu = [c0.mu, c1.mu];
    sd = [c0.sd, c1.sd];
    w = [c0.w, c1.w];
  }
  const [lo, hi] = mu[0] <= mu[1] ? [0, 1] : [1, 0];
  if (w[lo] < 0.01 || mu[hi] - mu[lo] < 1e-6) return null;
  // Bisection between the means for posterior(lo) = 1/2.
  let a = mu[lo];
  let b = mu[hi];
  for (let i = 0; i < 60; i++) {
    const m = (a + b) / 2;
    if (pdf(m, lo) > pdf(m, hi)) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

/** The dynamics of consecutive runs over the same samples (e.g. training phases) as one record. */
export function concatDynamics(parts: readonly DynamicsValues[]): DynamicsValues | undefined {
  const first = parts[0];
  if (!first) return undefined;
  if (parts.some((p) => p.samples !== first.samples || p.classes !== first.classes))
    throw new RangeError('dynamics of different samples or classes cannot be joined');
  const epochs = parts.reduce((s, p) => s + p.epochs, 0);
  const size = epochs * first.samples;
  const out: DynamicsValues = {
    samples: first.samples,
    classes: first.classes,
    epochs,
    label: parts[parts.length - 1].label.slice(),
    prob: new Float32Array(size),
    margin: new Float32Array(size),
    other: new Int32Array(size),
  };
  let at = 0;
  for (const p of parts) {
    out.prob.set(p.prob, at);
    out.margin.set(p.margin, at);
    out.other.set(p.other, at);
    at += p.epochs * p.samples;
  }
  return out;
}
