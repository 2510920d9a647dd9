import * as tf from '@tensorflow/tfjs';
import { auroc, crossFitScores, labelIssueCount, neighbourVotes } from '.';
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
});
