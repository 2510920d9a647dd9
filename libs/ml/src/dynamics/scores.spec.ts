import type { DynamicsValues } from '../train/dynamics';
import * as tf from '@tensorflow/tfjs';
import {
  auroc,
  crossFitScores,
  injectLabelNoise,
  mislabelRanking,
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
    // Two well-separated Gaussian blobs in 4-D, 30 samples each; samples 0 and 30 get the other label.
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
    const r = await crossFitScores(x, y, 2, { folds: 3, epochs: 40, seed: 1, learningRate: 0.05 });
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
    const opts = { folds: 3, epochs: 3, seed: 2 };
    const a = await crossFitScores(x, y, 2, { ...opts, standardize: true });
    const b = await crossFitScores(z, y, 2, opts);
    Array.from(a.margin).forEach((m, i) => expect(m).toBeCloseTo(b.margin[i], 3));
    expect(Array.from(a.winner)).toEqual(Array.from(b.winner));
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
