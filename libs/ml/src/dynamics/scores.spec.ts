import type { DynamicsValues } from '../train/dynamics';
import * as tf from '@tensorflow/tfjs';
import {
  auroc,
  crossFitScores,
  fitLogistic,
  injectLabelNoise,
  mislabelRanking,
  neighbourVotes,
  mixtureThreshold,
  sampleScores,
  suspectMislabeled,
} from '.';
import { Rng } from '../train/rng';

/** 3 samples, 3 classes, 2 epochs of hand-made records. */
function values(): DynamicsValues {
  const nan = NaN;
  return {
    samples: 3,
    classes: 3,
    epochs: 2,
    label: Int32Array.from([0, 1, 2]),
    // epoch 0: samples 0,1,2; epoch 1: samples 0,1,2 (sample 2 unseen in epoch 1)
    prob: Float32Array.from([0.5, 0.2, 0.3, 0.9, 0.1, nan]),
    margin: Float32Array.from([0.4, -1, -0.5, 2, -3, nan]),
    other: Int32Array.from([1, 2, 0, 1, 2, -1]),
  };
}

/** Two well-separated Gaussian blobs in 4-D, 30 samples each; samples 0 and 30 get the other label. */
function blobs(): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(3);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const n = 60;
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i < 30 ? 0 : 1;
    y[i] = c;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (c ? 2 : -2) + 0.5 * gauss();
  }
  y[0] = 1;
  y[30] = 0;
  return { x, y };
}

describe('training-dynamics scores', () => {
  it('computes AUM and cartography per sample, skipping unseen epochs', () => {
    const [a, b, c] = sampleScores(values());
    expect(a.aum).toBeCloseTo(1.2, 6);
    expect(a.confidence).toBeCloseTo(0.7, 6);
    expect(a.variability).toBeCloseTo(0.2, 6);
    expect(a.correctness).toBe(1);
    expect(a.believed).toBe(0);
    expect(b.aum).toBeCloseTo(-2, 6);
    expect(b.confidence).toBeCloseTo(0.15, 6);
    expect(b.variability).toBeCloseTo(0.05, 6);
    expect(b.correctness).toBe(0);
    expect(b.believed).toBe(2);
    expect(c.epochs).toBe(1);
    expect(c.aum).toBeCloseTo(-0.5, 6);
    expect(c.believed).toBe(0);
    expect(sampleScores(values(), { fromEpoch: 1 })[0].aum).toBeCloseTo(2, 6);
  });

  it('lists suspects below the threshold, lowest AUM first, bounded', () => {
    const r = suspectMislabeled(values(), { limit: 1, threshold: 0 });
    expect(r.suspected).toBe(2);
    expect(r.suspects.map((s) => s.id)).toEqual([1]);
    expect(r.suspectedByClass).toEqual([0, 1, 1]);
    expect(suspectMislabeled(values(), { threshold: -1 }).suspects.map((s) => s.id)).toEqual([1]);
    // With a held-out opinion, only samples it also doubts (margin < 0): sample 2, not sample 1.
    const both = suspectMislabeled(values(), { threshold: 0, heldOutMargin: [0.5, 0.2, -1] });
    expect(both.suspects.map((s) => s.id)).toEqual([2]);
    expect(() => suspectMislabeled(values(), { heldOutMargin: [0] })).toThrow(RangeError);
    // Held-out margins also order the suspects: by the rank mean of AUM and margin, not AUM alone.
    const ranked = suspectMislabeled(values(), { threshold: 0, heldOutMargin: [-3, -0.1, -5] });
    expect(ranked.suspects.map((s) => s.id)).toEqual([2, 1]);
    // A separate held-out score orders them instead of the margin (membership stays the margin's).
    const scored = suspectMislabeled(values(), {
      threshold: 0,
      heldOutMargin: [-3, -0.1, -5],
      heldOutScore: [1, 0.1, 0.9],
    });
    expect(scored.suspects.map((s) => s.id)).toEqual([1, 2]);
    expect(() => suspectMislabeled(values(), { heldOutMargin: [0, 0, 0], heldOutScore: [0] })).toThrow(
      RangeError,
    );
  });

  it('with a held-out count suspects that many, lowest held-out score first, whatever their AUM', () => {
    // Sample 0 has the highest AUM but the lowest held-out margin.
    const r = suspectMislabeled(values(), { threshold: 0, heldOutMargin: [-3, -0.1, 2], heldOutCount: 2 });
    expect(r.suspects.map((s) => s.id)).toEqual([0, 1]);
    expect(r.suspected).toBe(2);
    // Ordered by heldOutScore when given; ties by lower AUM.
    const t = suspectMislabeled(values(), {
      heldOutMargin: [-3, -0.1, 2],
      heldOutScore: [0, 0, 1],
      heldOutCount: 1,
    });
    expect(t.suspects.map((s) => s.id)).toEqual([1]);
    expect(suspectMislabeled(values(), { heldOutMargin: [-3, -0.1, 2], heldOutCount: 0 }).suspects).toEqual(
      [],
    );
  });

  it('neighbour votes: the k most similar other samples vote for their labels, weighted by similarity', () => {
    const { x, y } = blobs();
    const v = neighbourVotes(x, y, 2, 5);
    expect(v).toHaveLength(120);
    for (let i = 0; i < 60; i++) expect(v[2 * i] + v[2 * i + 1]).toBeCloseTo(1, 12);
    // The flipped samples' neighbours all carry the true label.
    expect(v[0 * 2 + 1]).toBeCloseTo(0, 12);
    expect(v[30 * 2 + 0]).toBeCloseTo(0, 12);
    // Exact: three points on a line, one neighbour each.
    const line = Float32Array.from([1, 0, 1, 0.1, 0, 1]);
    expect(Array.from(neighbourVotes(line, [0, 1, 1], 2, 1))).toEqual([0, 1, 1, 0, 0, 1]);
    expect(() => neighbourVotes(line, [0], 2, 1)).toThrow(RangeError);
  });

  it('cross-fitting with views and neighbour votes: flips lose; one image view alone is unchanged', async () => {
    await tf.setBackend('cpu');
    const { x, y } = blobs();
    // A second view: the same points shifted a little (what a mirror image does to features).
    const view = x.map((v, i) => v + (i % 4 === 0 ? 0.3 : -0.2));
    const r = await crossFitScores(x, y, 2, { folds: 3, seed: 1, l2: 0.1, views: [view], neighbours: 5 });
    for (const i of [0, 30]) {
      expect(r.margin[i]).toBeLessThan(0);
      expect(r.confident[i]).toBe(r.winner[i]);
    }
    const others = Array.from(y, (_, i) => i).filter((i) => i !== 0 && i !== 30);
    expect(others.filter((i) => r.margin[i] > 0).length).toBeGreaterThanOrEqual(56);
    const plain = await crossFitScores(x, y, 2, { folds: 3, seed: 1, l2: 0.1 });
    const none = await crossFitScores(x, y, 2, { folds: 3, seed: 1, l2: 0.1, views: [], neighbours: 0 });
    expect(Array.from(none.margin)).toEqual(Array.from(plain.margin));
    await expect(crossFitScores(x, y, 2, { views: [x.subarray(4)] })).rejects.toThrow(RangeError);
    await expect(crossFitScores(x, y, 2, { head: 'dense', views: [view] })).rejects.toThrow(RangeError);
  });

  it('ranks suspicion by the mean of the normalized ranks of low AUM and low held-out margin', () => {
    const r = mislabelRanking([1.2, -2, -0.5], [-3, -0.1, -5]);
    expect(Array.from(r)).toEqual([0.5, 4 / 6, 5 / 6].map((x) => expect.closeTo(x, 12) as number));
    // Ties share their average rank.
    const t = mislabelRanking([0, 0, 1], [0, 0, 0]);
    expect(t[0]).toBeCloseTo(0.75, 12);
    expect(t[1]).toBeCloseTo(0.75, 12);
    expect(t[2]).toBeCloseTo(0.5, 12);
    expect(() => mislabelRanking([0], [0, 1])).toThrow(RangeError);
  });

  it('cross-fitting scores every sample held out: a flipped label loses to its true class', async () => {
    await tf.setBackend('cpu');
    const { x, y } = blobs();
    const r = await crossFitScores(x, y, 2, {
      head: 'dense',
      folds: 3,
      epochs: 40,
      seed: 1,
      learningRate: 0.05,
    });
    expect(r.margin[0]).toBeLessThan(0);
    expect(r.margin[30]).toBeLessThan(0);
    expect(r.winner[0]).toBe(0);
    expect(r.winner[30]).toBe(1);
    const clean = Array.from(r.margin).filter((_, i) => i !== 0 && i !== 30);
    expect(clean.filter((m) => m > 0).length).toBeGreaterThanOrEqual(56);
    expect(
      auroc(
        Array.from(r.margin, (m) => -m),
        Array.from(y, (_, i) => i === 0 || i === 30),
      ),
    ).toBeGreaterThan(0.95);
    await expect(crossFitScores(x, y, 2, { folds: 100 })).rejects.toThrow(RangeError);
  });

  it('cross-fitting with logistic regression: flips lose, score below their class, confident in the true class', async () => {
    await tf.setBackend('cpu');
    const { x, y } = blobs();
    const r = await crossFitScores(x, y, 2, { folds: 3, seed: 1, l2: 0.1 });
    for (const i of [0, 30]) {
      expect(r.margin[i]).toBeLessThan(0);
      expect(r.winner[i]).toBe(i === 0 ? 0 : 1);
      expect(r.prob[i]).toBeCloseTo(1 - r.winnerProb[i], 5);
      expect(r.classScore[i]).toBeLessThan(0.5);
      expect(r.confident[i]).toBe(r.winner[i]);
    }
    const others = Array.from(y, (_, i) => i).filter((i) => i !== 0 && i !== 30);
    expect(others.filter((i) => r.margin[i] > 0).length).toBeGreaterThanOrEqual(56);
    expect(others.filter((i) => r.confident[i] === y[i]).length).toBeGreaterThanOrEqual(45);
    // classScore is prob over its class's mean prob: its mean per class is 1.
    for (const c of [0, 1]) {
      const s = Array.from(r.classScore).filter((_, i) => y[i] === c);
      expect(s.reduce((a, b) => a + b, 0) / s.length).toBeCloseTo(1, 6);
    }
    // No seeded initialisation: the same folds give the same scores.
    const again = await crossFitScores(x, y, 2, { folds: 3, seed: 1, l2: 0.1 });
    expect(Array.from(again.margin)).toEqual(Array.from(r.margin));
  });

  it('fits a converged L2-regularized logistic regression (zero gradient), shrinking with l2', async () => {
    await tf.setBackend('cpu');
    const { x, y } = blobs();
    const n = y.length;
    const dim = 4;
    const gradMax = async (l2: number) => {
      const m = await fitLogistic(x, y, 2, { l2, tolerance: 1e-6 });
      // The objective's gradient recomputed in float64.
      const g = new Float64Array(dim * 2 + 2);
      for (let i = 0; i < n; i++) {
        const z = [0, 1].map((c) => {
          let s = m.bias[c];
          for (let j = 0; j < dim; j++) s += x[i * dim + j] * m.weights[j * 2 + c];
          return s;
        });
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const p = e.map((v) => v / (e[0] + e[1]));
        for (const c of [0, 1]) {
          const r = (p[c] - (y[i] === c ? 1 : 0)) / n;
          for (let j = 0; j < dim; j++) g[j * 2 + c] += x[i * dim + j] * r;
          g[dim * 2 + c] += r;
        }
      }
      for (let j = 0; j < dim * 2; j++) g[j] += l2 * m.weights[j];
      const norm = Math.sqrt(m.weights.reduce((a, w) => a + w * w, 0));
      return { grad: Math.max(...Array.from(g, Math.abs)), norm, iterations: m.iterations };
    };
    const weak = await gradMax(0.01);
    const strong = await gradMax(1);
    expect(weak.grad).toBeLessThan(1e-4);
    expect(strong.grad).toBeLessThan(1e-4);
    expect(strong.norm).toBeLessThan(weak.norm / 3);
    await expect(
      fitLogistic(
        x,
        Int32Array.from(y, () => 2),
        2,
      ),
    ).rejects.toThrow(RangeError);
  });

  it('cross-fitting with standardize scores as on features z-scored beforehand', async () => {
    await tf.setBackend('cpu');
    const rng = new Rng(5);
    const n = 24;
    const dim = 3;
    const x = Float32Array.from(
      { length: n * dim },
      (_, i) => (i % dim) * 100 + rng.next() * (1 + (i % dim)),
    );
    const y = Int32Array.from({ length: n }, (_, i) => i % 2);
    const z = new Float32Array(n * dim);
    for (let j = 0; j < dim; j++) {
      const col = Array.from({ length: n }, (_, r) => x[r * dim + j]);
      const mean = col.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      col.forEach((v, r) => (z[r * dim + j] = (v - mean) / sd));
    }
    for (const opts of [
      { head: 'dense' as const, folds: 3, epochs: 3, seed: 2 },
      { head: 'logistic' as const, folds: 3, seed: 2 },
    ]) {
      const a = await crossFitScores(x, y, 2, { ...opts, standardize: true });
      const b = await crossFitScores(z, y, 2, opts);
      Array.from(a.margin).forEach((m, i) => expect(m).toBeCloseTo(b.margin[i], 3));
      expect(Array.from(a.winner)).toEqual(Array.from(b.winner));
    }
  });

  it('the mixture threshold separates two AUM populations and refuses one', () => {
    const rng = new Rng(1);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const fitted = Array.from({ length: 800 }, () => 4 + gauss());
    const flipped = Array.from({ length: 200 }, () => -3 + gauss());
    const t = mixtureThreshold([...fitted, ...flipped]);
    expect(t).not.toBeNull();
    // Equal variances, weights 0.8/0.2: the posterior crossing is at 0.5 + ln(0.2/0.8)/7 = 0.30.
    expect(t as number).toBeGreaterThan(-0.2);
    expect(t as number).toBeLessThan(0.8);
    expect(mixtureThreshold([1, 2, 3])).toBeNull();
  });

  it('AUROC: perfect, inverted, ties and degenerate cases', () => {
    expect(auroc([0.1, 0.2, 0.9, 0.8], [false, false, true, true])).toBe(1);
    expect(auroc([0.9, 0.8, 0.1, 0.2], [false, false, true, true])).toBe(0);
    expect(auroc([1, 1, 1, 1], [false, true, false, true])).toBe(0.5);
    expect(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(auroc([1, 2], [true, true])).toBeNaN();
  });

  it('injects exactly the requested fraction of symmetric or class-dependent flips', () => {
    const labels = Array.from({ length: 1000 }, (_, i) => i % 10);
    const s = injectLabelNoise(labels, 10, { kind: 'symmetric', rate: 0.2, seed: 1 });
    expect(s.flipped.filter(Boolean).length).toBe(200);
    s.flipped.forEach((f, i) => expect(s.labels[i] !== labels[i]).toBe(f));
    const targets = new Set(labels.map((y, i) => (s.flipped[i] ? s.labels[i] : -1)).filter((x) => x >= 0));
    expect(targets.size).toBe(10);
    const c = injectLabelNoise(labels, 10, { kind: 'class-dependent', rate: 0.3, seed: 1 });
    expect(c.flipped.filter(Boolean).length).toBe(300);
    c.flipped.forEach((f, i) => expect(c.labels[i]).toBe(f ? (labels[i] + 1) % 10 : labels[i]));
    expect(injectLabelNoise(labels, 10, { kind: 'symmetric', rate: 0.2, seed: 1 }).labels).toEqual(s.labels);
  });
});
