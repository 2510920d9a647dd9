import { mixSeed, Rng } from '../train/rng';
import {
  sampleAt,
  validateSpace,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SearchSpace,
} from './space';

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter
 * Optimization") as a pure function. The observations are split by score into the best `gamma`
 * fraction ("good") and the rest ("bad"); each dimension gets a Parzen density per group, l(x) from
 * the good ones and g(x) from the bad ones (each with a prior component: the uniform choice, or a
 * wide Gaussian at the middle of the range); `candidates` points are drawn from l and the one with
 * the largest l(x) / g(x) (the product over dimensions, i.e. the dimensions are independent as in
 * hyperopt's default) is proposed. Until `startup` observations have a score it falls back to the
 * seeded random draw `sampleAt(space, seed, i)`.
 *
 * Deterministic: the proposal is a function of (space, seed, i, observations) only, so a search that
 * restarts from its recorded trials proposes the same configuration again.
 */
export interface TpeObservation {
  /**
   * The configuration in the space's terms. A dimension that is missing (or holds a value the space
   * does not allow, e.g. a choice outside its list) is left out of that dimension's densities: a
   * conditional parameter that did not apply to this configuration.
   */
  params: Readonly<Record<string, ParamValue | undefined>>;
  /** Higher is better; null = failed (counted among the bad ones). */
  score: number | null;
}

export interface TpeOptions {
  /** Fraction of the observations in the good group (default 0.25; at least one). */
  gamma?: number;
  /** Scored observations needed before TPE replaces random draws (default 5, at least 2). */
  startup?: number;
  /** Points drawn from l(x) per proposal (default 24). */
  candidates?: number;
  /** Weight of the prior component of each density, against 1 per observation (default 1). */
  priorWeight?: number;
}

export const TPE_DEFAULTS: Required<TpeOptions> = { gamma: 0.25, startup: 5, candidates: 24, priorWeight: 1 };

/** A one-dimensional density on a dimension's internal scale (log for log-uniform). */
interface Density {
  logPdf(x: ParamValue): number;
  sample(rng: Rng): ParamValue;
}

/** The `i`-th configuration of a seeded TPE search given what was observed so far. */
export function tpeSampleAt(
  space: SearchSpace,
  seed: number,
  i: number,
  observations: readonly TpeObservation[],
  options: TpeOptions = {},
): Params {
  validateSpace(space);
  const o = { ...TPE_DEFAULTS, ...options };
  const scored = observations.filter((t) => t.score !== null && Number.isFinite(t.score));
  if (scored.length < Math.max(2, o.startup)) return sampleAt(space, seed, i);
  const { good, bad } = splitByQuantile(observations, o.gamma);
  const names = Object.keys(space).sort();
  const l = new Map<string, Density>();
  const g = new Map<string, Density>();
  for (const name of names) {
    l.set(name, density(space[name], valuesOf(space[name], good, name), o.priorWeight));
    g.set(name, density(space[name], valuesOf(space[name], bad, name), o.priorWeight));
  }
  let best: Params | undefined;
  let bestScore = -Infinity;
  for (let c = 0; c < o.candidates; c++) {
    const candidate: Params = {};
    let ratio = 0;
    for (const name of names) {
      // Each dimension draws from its own stream, as sampleAt does.
      const rng = new Rng(mixSeed(seed, i, hashName(name), c, 0x7e5));
      const x = l.get(name)!.sample(rng);
      candidate[name] = x;
      ratio += l.get(name)!.logPdf(x) - g.get(name)!.logPdf(x);
    }
    if (ratio > bestScore) {
      bestScore = ratio;
      best = candidate;
    }
  }
  return best ?? sampleAt(space, seed, i);
}

/**
 * The good group: the top ceil(gamma * n) observations by score (failed ones last; ties keep their
 * order), at least one; the bad group: the rest.
 */
export function splitByQuantile<T extends TpeObservation>(
  observations: readonly T[],
  gamma: number,
): { good: T[]; bad: T[] } {
  const ranked = observations
    .map((t, k) => ({ t, k, s: t.score !== null && Number.isFinite(t.score) ? t.score : -Infinity }))
    .sort((a, b) => b.s - a.s || a.k - b.k)
    .map((x) => x.t);
  const n = Math.min(ranked.length, Math.max(1, Math.ceil(gamma * ranked.length)));
  return { good: ranked.slice(0, n), bad: ranked.slice(n) };
}

/** The observations' values of one dimension that the space allows, on the dimension's own scale. */
function valuesOf(p: ParamSpec, obs: readonly TpeObservation[], name: string): ParamValue[] {
  const out: ParamValue[] = [];
  for (const t of obs) {
    const v = t.params[name];
    if (v === undefined) continue;
    if (p.kind === 'choice') {
      if (p.values.includes(v)) out.push(v);
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      if (p.kind === 'loguniform' && v <= 0) continue;
      out.push(Math.min(p.max, Math.max(p.min, v)));
    }
  }
  return out;
}

function density(p: ParamSpec, values: ParamValue[], priorWeight: number): Density {
  if (p.kind === 'choice') return categorical(p.values, values, priorWeight);
  if (p.kind === 'loguniform') {
    const d = parzen(
      Math.log(p.min),
      Math.log(p.max),
      values.map((v) => Math.log(Number(v))),
      priorWeight,
    );
    return {
      logPdf: (x) => d.logPdf(Math.log(Number(x))),
      sample: (rng) => Math.min(p.max, Math.max(p.min, Math.exp(d.sample(rng)))),
    };
  }
  if (p.kind === 'int') {
    // Integers as a continuous range widened by half a step each side, rounded when drawn.
    const d = parzen(p.min - 0.5, p.max + 0.5, values.map(Number), priorWeight);
    return {
      logPdf: (x) => d.logPdf(Number(x)),
      sample: (rng) => Math.min(p.max, Math.max(p.min, Math.round(d.sample(rng)))),
    };
  }
  const d = parzen(p.min, p.max, values.map(Number), priorWeight);
  return { logPdf: (x) => d.logPdf(Number(x)), sample: (rng) => d.sample(rng) };
}

/** Counts per value plus the prior spread evenly over the choices. */
function categorical(choices: readonly ParamValue[], values: ParamValue[], priorWeight: number): Density {
  const w = choices.map((c) => priorWeight / choices.length + values.filter((v) => v === c).length);
  const total = w.reduce((a, b) => a + b, 0);
  return {
    logPdf: (x) => {
      const k = choices.indexOf(x);
      return k < 0 ? -Infinity : Math.log(w[k] / total);
    },
    sample: (rng) => {
      let u = rng.next() * total;
      for (let k = 0; k < choices.length; k++) {
        u -= w[k];
        if (u < 0) return choices[k];
      }
      return choices[choices.length - 1];
    },
  };
}

/**
 * A mixture of Gaussians truncated to [lo, hi]: one per value (bandwidth: the larger gap to its
 * sorted neighbours, the prior's mean and the range ends included, clipped to [range / min(100, n +
 * 1), range]) and a prior one at the middle with sigma = the range, weighted `priorWeight`.
 */
function parzen(
  lo: number,
  hi: number,
  values: number[],
  priorWeight: number,
): {
  logPdf(x: number): number;
  sample(rng: Rng): number;
} {
  const range = hi - lo;
  if (!(range > 0)) return { logPdf: () => 0, sample: () => lo };
  const mid = (lo + hi) / 2;
  const mus = [...values, mid];
  const order = mus.map((_, k) => k).sort((a, b) => mus[a] - mus[b] || a - b);
  const sigmas = new Array<number>(mus.length);
  const minSigma = range / Math.min(100, values.length + 1);
  order.forEach((k, r) => {
    const left = r > 0 ? mus[k] - mus[order[r - 1]] : mus[k] - lo;
    const right = r < order.length - 1 ? mus[order[r + 1]] - mus[k] : hi - mus[k];
    sigmas[k] = Math.min(range, Math.max(minSigma, left, right));
  });
  sigmas[mus.length - 1] = range;
  const weights = mus.map((_, k) => (k === mus.length - 1 ? priorWeight : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  // Mass of each component inside [lo, hi], to renormalise the truncation.
  const mass = mus.map((m, k) => Math.max(1e-12, phi((hi - m) / sigmas[k]) - phi((lo - m) / sigmas[k])));
  return {
    logPdf: (x) => {
      let p = 0;
      for (let k = 0; k < mus.length; k++) {
        const z = (x - mus[k]) / sigmas[k];
        p += (weights[k] / total) * (Math.exp(-0.5 * z * z) / (sigmas[k] * Math.sqrt(2 * Math.PI) * mass[k]));
      }
      return Math.log(Math.max(p, 1e-300));
    },
    sample: (rng) => {
      let u = rng.next() * total;
      let k = 0;
      for (; k < mus.length - 1; k++) {
        u -= weights[k];
        if (u < 0) break;
      }
      // Rejection inside the range (a component has at least ~16% of its mass inside it), then clamp.
      for (let tries = 0; tries < 32; tries++) {
        const x = mus[k] + sigmas[k] * gaussian(rng);
        if (x >= lo && x <= hi) return x;
      }
      return Math.min(hi, Math.max(lo, mus[k]));
    },
  };
}

/** Standard normal (Box-Muller from two uniforms). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
