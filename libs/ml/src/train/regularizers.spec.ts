import * as tf from '@tensorflow/tfjs';
import { l2sp, train, withoutConflict } from '.';
import { blobBatches, makeBlobs, tinyMlp } from './test-helpers';

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
