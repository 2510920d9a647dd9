import * as tf from '@tensorflow/tfjs';
import { setBatchNormInference } from '../zoo/batch-norm-mode';
import { arrayBatches, delta, deltaLayers, train } from '.';
import { weightValues } from './test-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** conv(4) -> BN(bn1) at 8x8, conv(6, stride 2) -> BN(bn2) at 4x4, pooled, softmax head of 3; BN in inference mode. */
function smallNet(seed = 1) {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const input = tf.input({ shape: [8, 8, 3] });
  let x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: init(seed) })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      name: 'c2',
      kernelInitializer: init(seed + 1),
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn2' }).apply(x) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const dense = tf.layers.dense({
    units: 3,
    activation: 'softmax',
    name: 'head',
    kernelInitializer: init(seed + 2),
  });
  const model = tf.model({ inputs: input, outputs: dense.apply(pooled) as tf.SymbolicTensor });
  setBatchNormInference(model.layers, true);
  const backbone = model.layers.filter((l) => l.name !== 'head' && l.weights.length > 0);
  return { model, backbone, head: model.getLayer('head') };
}

const images = (n: number, seed: number) =>
  tf.randomUniform<tf.Rank.R4>([n, 8, 8, 3], -1, 1, 'float32', seed);

describe('deltaLayers', () => {
  it('takes the last narrowest BatchNormalization layer of each resolution, deepest first kept', () => {
    const { backbone } = smallNet();
    expect(deltaLayers(backbone).map((l) => l.name)).toEqual(['bn1', 'bn2']);
    expect(deltaLayers(backbone, 1).map((l) => l.name)).toEqual(['bn2']);
  });
});

describe('delta', () => {
  it('penalty is 0 at the pretrained weights and alpha/2 * (the hand-computed distance) after a shift', async () => {
    const { model, backbone, head } = smallNet();
    const reg = await delta({
      model,
      layers: deltaLayers(backbone),
      head: head.weights,
      alpha: 0.01,
      beta: 0,
    });
    const xs = images(5, 3);
    const at0 = tf.tidy(() => reg.forward!(xs).penalty.dataSync()[0]);
    expect(Math.abs(at0)).toBeLessThan(1e-9);
    // Shift bn2's channel 0 by +1 (its beta): the map differs by exactly 1 at every position of that
    // channel; uniform attention weighs each channel C * (1/C) = 1, so the distance is 1.
    const bn2 = model.getLayer('bn2');
    const [gamma, beta, mean, variance] = bn2.getWeights();
    const shifted = tf.add(beta, tf.oneHot(tf.tensor1d([0], 'int32'), 6).reshape([6]));
    bn2.setWeights([gamma, shifted, mean, variance]);
    const after = tf.tidy(() => reg.forward!(xs).penalty.dataSync()[0]);
    expect(after).toBeCloseTo(0.01 / 2, 6);
    // The output is the model's own.
    const out = tf.tidy(() => Array.from(reg.forward!(xs).output.dataSync()));
    const direct = Array.from((model.predict(xs) as tf.Tensor).dataSync());
    out.forEach((v, i) => expect(v).toBeCloseTo(direct[i], 5));
    reg.dispose();
  });

  it('attention weighs the channels the task loss depends on, sums to 1 per layer, and restores the weights', async () => {
    const { model, backbone, head } = smallNet();
    // The head reads only bn2's channel 0: zeroing any other channel cannot change the loss.
    const kernel = tf.buffer([6, 3]);
    kernel.set(4, 0, 0);
    kernel.set(-4, 0, 1);
    head.setWeights([kernel.toTensor(), tf.zeros([3])]);
    const xs = images(16, 5);
    const ys = tf.argMax(model.predict(xs) as tf.Tensor, 1); // labels the model gets right
    const before = weightValues(model);
    const reg = await delta({ model, layers: deltaLayers(backbone), head: head.weights });
    const att = await reg.computeAttention(xs, ys);
    expect(weightValues(model)).toEqual(before);
    expect(att.map((a) => a.length)).toEqual([4, 6]);
    for (const a of att) expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    const bn2 = att[1];
    for (let c = 1; c < 6; c++) {
      expect(bn2[0]).toBeGreaterThan(bn2[c]);
      expect(bn2[c]).toBeCloseTo(bn2[1], 6);
    }
    expect(reg.attention()).toEqual(att);
    reg.dispose();
  });

  it('training with DELTA keeps the feature maps nearer the pretrained ones than plain training', async () => {
    const distanceAfter = async (alpha: number): Promise<number> => {
      const { model, backbone, head } = smallNet(7);
      const meter = await delta({ model, layers: deltaLayers(backbone), head: [], alpha: 2, beta: 0 });
      const reg = await delta({ model, layers: deltaLayers(backbone), head: head.weights, alpha, beta: 0 });
      const x = images(48, 11);
      const xv = x.dataSync();
      const labels = Array.from({ length: 48 }, (_, i) => i % 3);
      await train(model, {
        data: arrayBatches({
          count: 48,
          batchSize: 16,
          shuffle: true,
          sampleShape: [8, 8, 3],
          fill: (i, out, offset) => {
            out.set(xv.subarray(i * 192, (i + 1) * 192), offset);
            return labels[i];
          },
        }),
        epochs: 3,
        seed: 3,
        learningRate: 0.05,
        regularizer: reg,
      });
      const d = tf.tidy(() => meter.forward!(x).penalty.dataSync()[0]);
      reg.dispose();
      meter.dispose();
      model.dispose();
      return d;
    };
    // Measured (cpu backend): plain 2.30, DELTA (alpha 10) 0.22.
    const plain = await distanceAfter(0);
    const held = await distanceAfter(10);
    expect(plain).toBeGreaterThan(0);
    expect(held).toBeLessThan(plain * 0.5);
  });
});
