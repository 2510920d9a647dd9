import * as tf from '@tensorflow/tfjs';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import {
  bss,
  combineRegularizers,
  l2sp,
  MemoryCheckpointStore,
  rifle,
  rifleEpochs,
  smallestSquaredSingularValues,
  train,
  withoutConflict,
} from '.';
import { blobBatches, makeBlobs, tinyMlp, weightValues } from './test-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
};

/** One dense layer ("backbone") and one dense layer ("head"), with hand-set weights. */
function twoLayers() {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [2], units: 2, name: 'bb' }),
      tf.layers.dense({ units: 1, name: 'hd' }),
    ],
  });
  const [bb, hd] = [model.getLayer('bb'), model.getLayer('hd')];
  bb.setWeights([
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
    tf.tensor1d([0.5, -0.5]),
  ]);
  hd.setWeights([tf.tensor2d([[2], [-1]]), tf.tensor1d([7])]);
  return { model, bb, hd };
}

describe('l2sp', () => {
  it('penalty and gradient match the hand computation, against w0 for the backbone and 0 for the head kernel', () => {
    const { model, bb, hd } = twoLayers();
    const reg = l2sp({ backbone: bb.trainableWeights, head: hd.trainableWeights, alpha: 0.1, beta: 0.01 });
    // Move the backbone away from its starting point: kernel += [[1,0],[0,-2]], bias += [0, 1].
    bb.setWeights([
      tf.tensor2d([
        [2, 2],
        [3, 2],
      ]),
      tf.tensor1d([0.5, 0.5]),
    ]);
    const weights = model.trainableWeights;
    // alpha/2 * (1 + 4 + 1) + beta/2 * (4 + 1); the head's bias is not penalised.
    const expected = (0.1 / 2) * 6 + (0.01 / 2) * 5;
    expect(Math.abs(reg.penalty(weights).dataSync()[0] - expected)).toBeLessThan(1e-6);

    const zeros = weights.map((w) => tf.zerosLike(w.read()));
    const grads = reg.gradients(weights, zeros);
    const byName = new Map(weights.map((w, i) => [w.originalName, grads[i]!.dataSync()]));
    close(byName.get('bb/kernel')!, [0.1, 0, 0, -0.2]);
    close(byName.get('bb/bias')!, [0, 0.1]);
    close(byName.get('hd/kernel')!, [0.02, -0.01]);
    close(byName.get('hd/bias')!, [0]);

    // The same gradient as autodiff of the penalty.
    const vars = weights.map((w) => w.read() as tf.Variable);
    const auto = tf.variableGrads(() => reg.penalty(weights), vars).grads;
    vars.forEach((v, i) =>
      close(auto[v.name]?.dataSync() ?? new Float32Array(grads[i]!.size), grads[i]!.dataSync()),
    );

    // The loss gradient is added, not replaced.
    const ones = weights.map((w) => tf.onesLike(w.read()));
    const summed = reg.gradients(weights, ones);
    close(summed[0]!.dataSync(), [1.1, 1, 1, 0.8]);
    reg.dispose();
    model.dispose();
  });

  it('keeps fine-tuned weights nearer their starting point than training without it', async () => {
    const blobs = makeBlobs(120, 3);
    const distanceAfter = async (withReg: boolean) => {
      const model = tinyMlp(5, 6, 3, { bn: false, dropout: false });
      const hidden = model.getLayer('hidden');
      const w0 = hidden.getWeights().map((t) => Array.from(t.dataSync()));
      const reg = withReg
        ? l2sp({ backbone: hidden.trainableWeights, head: model.getLayer('head').trainableWeights, alpha: 1 })
        : undefined;
      await train(model, {
        data: blobBatches(blobs, 30),
        epochs: 6,
        seed: 1,
        optimizer: { type: 'sgd' },
        learningRate: 0.3,
        ...(reg ? { regularizer: reg } : {}),
      });
      const after = hidden.getWeights().map((t) => Array.from(t.dataSync()));
      reg?.dispose();
      model.dispose();
      return Math.sqrt(after.reduce((s, a, k) => s + a.reduce((t, v, j) => t + (v - w0[k][j]) ** 2, 0), 0));
    };
    const free = await distanceAfter(false);
    const pulled = await distanceAfter(true);
    expect(free).toBeGreaterThan(0.1);
    expect(pulled).toBeLessThan(free * 0.9);
  });
});

describe('withoutConflict (Wan et al. 2019)', () => {
  it('removes the part of the penalty gradient that opposes the loss gradient', () => {
    const loss = tf.tensor1d([1, 2, -1]);
    const reg = tf.tensor1d([-3, 0.5, 1]);
    const before = tf.sum(tf.mul(reg, loss)).dataSync()[0];
    expect(before).toBeLessThan(0);
    const out = withoutConflict(reg, loss);
    expect(Math.abs(tf.sum(tf.mul(out, loss)).dataSync()[0])).toBeLessThan(1e-5);
    // reg - (<reg,loss>/||loss||^2) loss, by hand: dot = -3 + 1 - 1 = -3, ||loss||^2 = 6.
    close(out.dataSync(), [-3 + 0.5, 0.5 + 1, 1 - 0.5]);
  });

  it('leaves the penalty gradient unchanged when it does not oppose the loss gradient, or the loss gradient is 0', () => {
    const reg = tf.tensor2d([
      [1, -1],
      [2, 0],
    ]);
    close(
      withoutConflict(
        reg,
        tf.tensor2d([
          [1, 0],
          [1, 1],
        ]),
      ).dataSync(),
      reg.dataSync(),
    );
    close(withoutConflict(reg, tf.zeros([2, 2])).dataSync(), reg.dataSync());
  });

  it('with conflictRule, every combined gradient keeps a non-negative product with the loss gradient', () => {
    const { model, bb, hd } = twoLayers();
    const reg = l2sp({
      backbone: bb.trainableWeights,
      head: hd.trainableWeights,
      alpha: 5,
      beta: 5,
      conflictRule: true,
    });
    const plain = l2sp({ backbone: bb.trainableWeights, head: hd.trainableWeights, alpha: 5, beta: 5 });
    bb.setWeights([
      tf.tensor2d([
        [3, 3],
        [3, 3],
      ]),
      tf.tensor1d([2, 2]),
    ]);
    const weights = model.trainableWeights;
    // Loss gradients chosen to oppose the penalty's on some tensors.
    const lossGrads = weights.map((w, i) => tf.mul(tf.onesLike(w.read()), i % 2 === 0 ? 1 : -1));
    // The plain penalty's gradient must oppose the loss's somewhere, or the rule is not exercised.
    const opposed = plain
      .gradients(weights, lossGrads)
      .map((g, i) => tf.sum(tf.mul(tf.sub(g!, lossGrads[i]), lossGrads[i])).dataSync()[0]);
    expect(Math.min(...opposed)).toBeLessThan(-1);
    const combined = reg.gradients(weights, lossGrads);
    combined.forEach((g, i) => {
      const regPart = tf.sub(g!, lossGrads[i]);
      expect(tf.sum(tf.mul(regPart, lossGrads[i])).dataSync()[0]).toBeGreaterThanOrEqual(-1e-4);
    });
    reg.dispose();
    plain.dispose();
    model.dispose();
  });
});

/** A [rows, cols] matrix of fixed, well-spread values. */
function fixedMatrix(rows: number, cols: number, seed: number): number[][] {
  return Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => Math.sin(seed * 12.9898 + i * 78.233 + j * 37.719) * 2),
  );
}

describe('BSS (Chen et al. 2019)', () => {
  it.each([
    [4, 7, 1],
    [4, 7, 2],
    [9, 3, 1],
  ])('the k smallest squared singular values of a %ix%i matrix (k=%i): value and gradient', (n, d, k) => {
    const m = fixedMatrix(n, d, n + d);
    const sv = new SingularValueDecomposition(new Matrix(m), { autoTranspose: true }).diagonal.sort(
      (a, b) => a - b,
    );
    const expected = sv.slice(0, k).reduce((a, v) => a + v * v, 0);
    const f = tf.tensor2d(m);
    const value = smallestSquaredSingularValues(f, k).dataSync()[0];
    expect(Math.abs(value - expected)).toBeLessThan(1e-3 * Math.max(1, expected));
    // The gradient of the smallest: 2 * sigma * u v^T (u, v its singular vectors), checked by central
    // differences in float64 against the SVD's value.
    const grad = tf
      .grad((x: tf.Tensor) => smallestSquaredSingularValues(x as tf.Tensor2D, k))(f)
      .arraySync() as number[][];
    const h = 1e-4;
    for (const [i, j] of [
      [0, 0],
      [n - 1, d - 1],
      [1, 2],
    ]) {
      const shifted = (delta: number) => {
        const c = m.map((r) => [...r]);
        c[i][j] += delta;
        const s = new SingularValueDecomposition(new Matrix(c), { autoTranspose: true }).diagonal.sort(
          (a, b) => a - b,
        );
        return s.slice(0, k).reduce((a, v) => a + v * v, 0);
      };
      const numeric = (shifted(h) - shifted(-h)) / (2 * h);
      expect(Math.abs(grad[i][j] - numeric)).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
    }
    f.dispose();
  });

  it("adds eta * the smallest squared singular value of the features to the loss, with the model's own output", () => {
    const model = tinyMlp(3, 6, 3, { bn: false, dropout: false });
    const features = model.getLayer('hidden').output as tf.SymbolicTensor;
    const reg = bss({ model, features, eta: 0.5 });
    const xs = tf.tensor2d(fixedMatrix(5, 6, 1));
    const { output, penalty } = reg.forward!(xs);
    const plain = model.predict(xs) as tf.Tensor;
    expect(Math.max(...tf.abs(tf.sub(output, plain)).dataSync())).toBeLessThan(1e-6);
    const feats = (
      tf.model({ inputs: model.inputs, outputs: features }).predict(xs) as tf.Tensor
    ).arraySync() as number[][];
    const sv = new SingularValueDecomposition(new Matrix(feats), { autoTranspose: true }).diagonal.sort(
      (a, b) => a - b,
    );
    expect(Math.abs(penalty.dataSync()[0] - 0.5 * sv[0] ** 2)).toBeLessThan(1e-3 * Math.max(1, sv[0] ** 2));
    // Weights are not penalised: the gradients pass through.
    const g = model.trainableWeights.map((w) => tf.onesLike(w.read()));
    expect(reg.gradients(model.trainableWeights, g)).toEqual(g);
    model.dispose();
  });

  it('shrinks the smallest singular value of the features while training (vs the same run without it)', async () => {
    const blobs = makeBlobs(96, 4);
    const smallestAfter = async (eta: number) => {
      const model = tinyMlp(5, 6, 3, { bn: false, dropout: false });
      const features = model.getLayer('hidden').output as tf.SymbolicTensor;
      await train(model, {
        data: blobBatches(blobs, 32),
        epochs: 8,
        seed: 1,
        learningRate: 0.01,
        ...(eta > 0 ? { regularizer: bss({ model, features, eta }) } : {}),
      });
      const xs = tf.tensor2d(blobs.xs, [blobs.count, blobs.dim]);
      const f = tf.model({ inputs: model.inputs, outputs: features }).predict(xs) as tf.Tensor2D;
      const v = smallestSquaredSingularValues(f, 1).dataSync()[0];
      model.dispose();
      return v;
    };
    const free = await smallestAfter(0);
    const shrunk = await smallestAfter(1);
    expect(free).toBeGreaterThan(1e-3);
    expect(shrunk).toBeLessThan(free * 0.8);
  });
});

describe('RIFLE (Li et al. 2020)', () => {
  it('re-initializes at evenly spaced epoch starts, never at epoch 0 or past the end', () => {
    expect(rifleEpochs(40, 3)).toEqual([10, 20, 30]);
    expect(rifleEpochs(8, 3)).toEqual([2, 4, 6]);
    expect(rifleEpochs(3, 3)).toEqual([1, 2]);
    expect(rifleEpochs(1, 3)).toEqual([]);
    expect(rifleEpochs(10, 0)).toEqual([]);
  });

  it("redraws the head's kernel (Glorot range) and zeroes its bias at those epochs, from (seed, epoch) only", () => {
    const model = tinyMlp(2, 6, 3, { bn: false, dropout: false });
    const head = model.getLayer('head');
    let enabled = true;
    const reg = rifle({ head: [head], times: 3, when: () => enabled });
    head.setWeights([tf.ones([16, 3]), tf.ones([3])]);
    reg.onEpochStart!(1, { seed: 9, epochs: 8 });
    expect(Array.from(head.getWeights()[0].dataSync())).toEqual(new Array(48).fill(1));
    reg.onEpochStart!(2, { seed: 9, epochs: 8 });
    const [kernel, bias] = head.getWeights().map((t) => Array.from(t.dataSync()));
    const limit = Math.sqrt(6 / (16 + 3));
    expect(Math.max(...kernel.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(new Set(kernel).size).toBeGreaterThan(40);
    expect(bias).toEqual([0, 0, 0]);
    head.setWeights([tf.ones([16, 3]), tf.ones([3])]);
    reg.onEpochStart!(2, { seed: 9, epochs: 8 });
    expect(Array.from(head.getWeights()[0].dataSync())).toEqual(kernel);
    reg.onEpochStart!(4, { seed: 9, epochs: 8 });
    expect(Array.from(head.getWeights()[0].dataSync())).not.toEqual(kernel);
    // Not while `when` says no (e.g. a frozen backbone).
    enabled = false;
    head.setWeights([tf.ones([16, 3]), tf.ones([3])]);
    reg.onEpochStart!(6, { seed: 9, epochs: 8 });
    expect(Array.from(head.getWeights()[1].dataSync())).toEqual([1, 1, 1]);
    model.dispose();
  });

  it('a run cancelled mid-epoch after a re-initialization and resumed ends with the uninterrupted weights', async () => {
    const blobs = makeBlobs(48, 6);
    const run = (model: tf.LayersModel) => ({
      data: blobBatches(blobs, 12),
      epochs: 4,
      seed: 3,
      learningRate: 0.05,
      regularizer: rifle({ head: [model.getLayer('head')], times: 1 }),
    });
    const ref = tinyMlp(1, 6, 3, { bn: false, dropout: false });
    await train(ref, run(ref));
    const store = new MemoryCheckpointStore();
    const ac = new AbortController();
    const first = tinyMlp(1, 6, 3, { bn: false, dropout: false });
    const r1 = await train(first, {
      ...run(first),
      checkpoint: { store, key: 'k' },
      signal: ac.signal,
      progressEverySteps: 1,
      onProgress: (p) => {
        if (p.kind === 'step' && p.globalStep === 10) ac.abort(); // epoch 2 (re-initialized), step 2
      },
    });
    expect(r1.status).toBe('cancelled');
    const resumed = tinyMlp(7, 6, 3, { bn: false, dropout: false });
    const r2 = await train(resumed, { ...run(resumed), checkpoint: { store, key: 'k' } });
    expect(r2.resumedFrom).toEqual({ epoch: 2, step: 2, globalStep: 10 });
    expect(weightValues(resumed)).toEqual(weightValues(ref));
    // And RIFLE changed the run: without it the weights differ.
    const plain = tinyMlp(1, 6, 3, { bn: false, dropout: false });
    await train(plain, { ...run(plain), regularizer: undefined });
    expect(weightValues(plain)).not.toEqual(weightValues(ref));
    for (const m of [ref, first, resumed, plain]) m.dispose();
  });

  it('combines with L2-SP: penalties add, the epoch hook and the gradients of both apply', () => {
    const { model, bb, hd } = twoLayers();
    const a = l2sp({ backbone: bb.trainableWeights, head: hd.trainableWeights });
    const both = combineRegularizers([a, rifle({ head: [hd], times: 1 })]);
    bb.setWeights([tf.zeros([2, 2]), tf.zeros([2])]);
    const weights = model.trainableWeights;
    close(both.penalty(weights).dataSync(), a.penalty(weights).dataSync());
    const zeros = weights.map((w) => tf.zerosLike(w.read()));
    close(both.gradients(weights, zeros)[0]!.dataSync(), a.gradients(weights, zeros)[0]!.dataSync());
    both.onEpochStart!(1, { seed: 1, epochs: 2 });
    expect(Array.from(hd.getWeights()[1].dataSync())).toEqual([0]);
    both.dispose();
    model.dispose();
  });
});
