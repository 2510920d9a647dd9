import * as tf from '@tensorflow/tfjs';
import { auroc, crossFitScores, fitLogistic, labelIssueCount, neighbourVotes } from '.';
import { Rng } from '../train/rng';

/**
 * Three overlapping Gaussian blobs in 6-D, 40 samples each (class = i % 3); every 8th sample's label
 * is moved to the next class (15 flips).
 */
function noisyBlobs(): { x: Float32Array; y: Int32Array; flipped: boolean[] } {
  const rng = new Rng(11);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const n = 120;
  const dim = 6;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  const flipped: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let j = 0; j < dim; j++) x[i * dim + j] = (j % 3 === c ? 1.6 : 0) + gauss();
    flipped.push(i % 8 === 0);
    y[i] = flipped[i] ? (c + 1) % 3 : c;
  }
  return { x, y, flipped };
}

describe('crossFitScores: repeats, neighbour weight and the pruned second round', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the new options at their defaults leave the scores unchanged', async () => {
    const { x, y } = noisyBlobs();
    const base = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1, neighbours: 5 });
    const same = await crossFitScores(x, y, 3, {
      folds: 4,
      seed: 1,
      l2: 0.1,
      neighbours: 5,
      repeats: 1,
      prune: 0,
      neighbourWeight: 0.5,
    });
    expect(Array.from(same.margin)).toEqual(Array.from(base.margin));
    expect(Array.from(same.confident)).toEqual(Array.from(base.confident));
  });

  it('repeats average the held-out probabilities of the fold assignments of seeds seed, seed + 1, ...', async () => {
    const { x, y } = noisyBlobs();
    const a = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1 });
    const b = await crossFitScores(x, y, 3, { folds: 4, seed: 2, l2: 0.1 });
    const ab = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1, repeats: 2 });
    expect(Array.from(a.prob)).not.toEqual(Array.from(b.prob));
    for (let i = 0; i < y.length; i++) expect(ab.prob[i]).toBeCloseTo((a.prob[i] + b.prob[i]) / 2, 6);
  });

  it('l2PerRepeat gives each fold assignment its own l2 (an ensemble of regularizations)', async () => {
    const { x, y } = noisyBlobs();
    const a = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.01 });
    const b = await crossFitScores(x, y, 3, { folds: 4, seed: 2, l2: 10 });
    const ab = await crossFitScores(x, y, 3, {
      folds: 4,
      seed: 1,
      l2: 1,
      repeats: 2,
      l2PerRepeat: [0.01, 10],
    });
    expect(Array.from(a.prob)).not.toEqual(Array.from(b.prob));
    for (let i = 0; i < y.length; i++) expect(ab.prob[i]).toBeCloseTo((a.prob[i] + b.prob[i]) / 2, 6);
  });

  it('neighbourWeight mixes the fold models and the neighbour votes: 1 = the votes alone, 0 = the models alone', async () => {
    const { x, y } = noisyBlobs();
    const votes = neighbourVotes(x, y, 3, 5);
    const only = await crossFitScores(x, y, 3, {
      folds: 4,
      seed: 1,
      l2: 0.1,
      neighbours: 5,
      neighbourWeight: 1,
    });
    for (let i = 0; i < y.length; i++) expect(only.prob[i]).toBeCloseTo(votes[i * 3 + y[i]], 12);
    const models = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1 });
    const none = await crossFitScores(x, y, 3, {
      folds: 4,
      seed: 1,
      l2: 0.1,
      neighbours: 5,
      neighbourWeight: 0,
    });
    for (let i = 0; i < y.length; i++) expect(none.prob[i]).toBeCloseTo(models.prob[i], 12);
    await expect(crossFitScores(x, y, 3, { neighbours: 5, neighbourWeight: 1.5 })).rejects.toThrow(
      RangeError,
    );
  });

  it('prune refits without the first round suspects: every sample is scored again and the flips rank at least as well', async () => {
    const { x, y, flipped } = noisyBlobs();
    const opts = { folds: 4, seed: 1, l2: 0.1, neighbours: 5 };
    const first = await crossFitScores(x, y, 3, opts);
    const second = await crossFitScores(x, y, 3, { ...opts, prune: 1 });
    expect(labelIssueCount(first, y)).toBeGreaterThan(0);
    expect(Array.from(second.margin)).not.toEqual(Array.from(first.margin));
    expect(Array.from(second.margin).every(Number.isFinite)).toBe(true);
    const au = (m: Float64Array) =>
      auroc(
        Array.from(m, (v) => -v),
        flipped,
      );
    expect(au(first.margin)).toBeGreaterThan(0.8);
    expect(au(second.margin)).toBeGreaterThanOrEqual(au(first.margin) - 1e-9);
    // The flips lose more clearly once the other flips no longer train the models that judge them.
    const flipMean = (m: Float64Array) =>
      Array.from(m)
        .filter((_, i) => flipped[i])
        .reduce((s, v) => s + v, 0) / 15;
    expect(flipMean(second.margin)).toBeLessThan(flipMean(first.margin));
  });

  it('neighbour votes from the marked voters only', () => {
    // Four points on a line, one neighbour each; without voter 1, sample 0's nearest voter is 2.
    const line = Float32Array.from([1, 0, 1, 0.1, 1, 0.3, 0, 1]);
    expect(Array.from(neighbourVotes(line, [0, 1, 2, 2], 3, 1))).toEqual([
      0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
    ]);
    expect(Array.from(neighbourVotes(line, [0, 1, 2, 2], 3, 1, [true, false, true, true]))).toEqual([
      0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1,
    ]);
    expect(() => neighbourVotes(line, [0, 1, 2, 2], 3, 1, [true])).toThrow(RangeError);
  });

  describe('generalized cross-entropy (gce)', () => {
    /** Row probabilities of a fitted model, in float64. */
    const probsOf = (
      m: { weights: Float32Array; bias: Float32Array; dim: number; classes: number },
      x: Float32Array,
    ) => {
      const n = x.length / m.dim;
      const out: number[][] = [];
      for (let i = 0; i < n; i++) {
        const z = Array.from({ length: m.classes }, (_, c) => {
          let s = m.bias[c];
          for (let j = 0; j < m.dim; j++) s += x[i * m.dim + j] * m.weights[j * m.classes + c];
          return s;
        });
        const mx = Math.max(...z);
        const e = z.map((v) => Math.exp(v - mx));
        const t = e.reduce((a, b) => a + b, 0);
        out.push(e.map((v) => v / t));
      }
      return out;
    };

    it('fits to a stationary point of the mean (1 - p(label)^q) / q + l2/2 |W|^2 (gradient recomputed in float64)', async () => {
      const { x, y } = noisyBlobs();
      const q = 0.7;
      const l2 = 0.1;
      const m = await fitLogistic(x, y, 3, { l2, gce: q, tolerance: 1e-6, maxIterations: 500 });
      const n = y.length;
      const p = probsOf(m, x);
      const g = new Float64Array(m.dim * 3 + 3);
      for (let i = 0; i < n; i++) {
        const w = Math.pow(p[i][y[i]], q);
        for (let c = 0; c < 3; c++) {
          const r = (w * (p[i][c] - (y[i] === c ? 1 : 0))) / n;
          for (let j = 0; j < m.dim; j++) g[j * 3 + c] += x[i * m.dim + j] * r;
          g[m.dim * 3 + c] += r;
        }
      }
      for (let j = 0; j < m.dim * 3; j++) g[j] += l2 * m.weights[j];
      expect(Math.max(...Array.from(g, Math.abs))).toBeLessThan(1e-4);
    });

    it('fits the wrong labels less than cross-entropy does', async () => {
      const { x, y, flipped } = noisyBlobs();
      const ce = probsOf(await fitLogistic(x, y, 3, { l2: 0.01 }), x);
      const gce = probsOf(await fitLogistic(x, y, 3, { l2: 0.01, gce: 0.7 }), x);
      const meanGiven = (p: number[][], rows: (i: number) => boolean) => {
        const r = y.map((_, i) => i).filter(rows);
        return r.reduce((s, i) => s + p[i][y[i]], 0) / r.length;
      };
      // The flips' given (wrong) labels get a lower probability; the true labels of the clean rows stay high.
      expect(meanGiven(gce, (i) => flipped[i])).toBeLessThan(meanGiven(ce, (i) => flipped[i]));
      expect(meanGiven(gce, (i) => !flipped[i])).toBeGreaterThan(0.6);
      await expect(fitLogistic(x, y, 3, { gce: 1.5 })).rejects.toThrow(RangeError);
    });

    it('gceFromZero: one L-BFGS run from zero weights reaches a stationary point fitting the wrong labels as little', async () => {
      const { x, y, flipped } = noisyBlobs();
      const two = await fitLogistic(x, y, 3, { l2: 0.01, gce: 0.7 });
      const one = await fitLogistic(x, y, 3, { l2: 0.01, gce: 0.7, gceFromZero: true });
      const ce = probsOf(await fitLogistic(x, y, 3, { l2: 0.01 }), x);
      const [p2, p1] = [probsOf(two, x), probsOf(one, x)];
      const meanFlipped = (p: number[][]) => {
        const r = y.map((_, i) => i).filter((i) => flipped[i]);
        return r.reduce((s, i) => s + p[i][y[i]], 0) / r.length;
      };
      expect(meanFlipped(p1)).toBeLessThan(meanFlipped(ce));
      expect(Math.abs(meanFlipped(p1) - meanFlipped(p2))).toBeLessThan(0.05);
      const argmax = (r: number[]) => r.indexOf(Math.max(...r));
      const agree = p1.filter((r, i) => argmax(r) === argmax(p2[i])).length / p1.length;
      expect(agree).toBeGreaterThan(0.95);
    });

    it('crossFitScores passes gce to the fold models: the scores change, gce 0 is cross-entropy', async () => {
      const { x, y } = noisyBlobs();
      const base = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1 });
      const zero = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1, gce: 0 });
      const robust = await crossFitScores(x, y, 3, { folds: 4, seed: 1, l2: 0.1, gce: 0.7 });
      expect(Array.from(zero.margin)).toEqual(Array.from(base.margin));
      expect(Array.from(robust.margin)).not.toEqual(Array.from(base.margin));
    });
  });

  it('fitLogistic lets the event loop take turns during a long fit', async () => {
    const rng = new Rng(5);
    const n = 400;
    const dim = 300;
    const x = Float32Array.from({ length: n * dim }, () => rng.next() - 0.5);
    const y = Array.from({ length: n }, (_, i) => i % 5);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    try {
      // A tolerance no fit reaches: all 200 iterations run (well over the 50 ms between turns).
      await fitLogistic(x, y, 5, { l2: 1e-4, tolerance: 0, maxIterations: 200 });
    } finally {
      clearInterval(timer);
    }
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThan(150);
    // Held for the whole fit, the interval would have fired at most once (after it).
    expect(ticks).toBeGreaterThanOrEqual(2);
  });
});
