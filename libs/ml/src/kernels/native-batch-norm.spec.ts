import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { BN_TRAIN_GRAD_KERNEL, BN_TRAIN_KERNEL, batchNormTrain, canFuseBatchNorm } from './native-batch-norm';
import { useNativeBlas } from './native-blas';
import { NO_OPENBLAS, openBlasPresent, prng, randInt, randValues, relError, useBackend } from './test-utils';
import { itIf } from '../../../../test/support/skip';

type Arrays = Float32Array[];

/**
 * A loss that reaches every output of training-mode batch normalization (y, mean, variance), and its
 * gradients for x, gamma and beta; `norm` computes [y, mean, variance].
 */
function lossAndGrads(
  norm: (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor[],
  values: { x: Float32Array; gamma: Float32Array; beta: Float32Array; wy: Float32Array; wm: Float32Array },
  shape: number[],
): Arrays {
  return tf.tidy(() => {
    const [x, gamma, beta] = [
      tf.tensor(values.x, shape),
      tf.tensor1d(values.gamma),
      tf.tensor1d(values.beta),
    ];
    const wy = tf.tensor(values.wy, shape);
    const wm = tf.tensor1d(values.wm);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const [y, mean, variance] = norm(a, g, b);
      return tf.addN([
        tf.sum(tf.mul(y, wy)),
        tf.sum(tf.mul(mean, wm)),
        tf.sum(tf.mul(variance, wm.reverse())),
      ]);
    };
    const outs = norm(x, gamma, beta);
    const grads = tf.grads(f)([x, gamma, beta]);
    return [...outs, ...grads].map((t) => t.dataSync<'float32'>().slice());
  });
}

/** tfjs-layers' own training-mode batch norm: moments, then batchNorm. */
const reference = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number) => {
  const { mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]);
  return [tf.batchNorm(x, mean, variance, beta, gamma, eps), mean, variance];
};

describe('fused training batch norm (native addon)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    await tf.ready();
  });
  afterEach(() => {
    useNativeBlas(true);
    useBackend('wasm');
  });

  it(`applies exactly where the addon is loaded (here: ${openBlasPresent ? 'yes' : 'no'}), on wasm only`, () => {
    const x = tf.zeros([2, 3]);
    const v = tf.ones([3]);
    expect(canFuseBatchNorm(x, v, v)).toBe(openBlasPresent);
    expect(canFuseBatchNorm(x, null, v)).toBe(false);
    useNativeBlas(false);
    expect(canFuseBatchNorm(x, v, v)).toBe(false);
    tf.dispose([x, v]);
  });

  itIf(openBlasPresent, NO_OPENBLAS)(
    'gives the outputs and gradients (through the batch statistics too) of moments + batchNorm on the cpu backend',
    () => {
      const rand = prng(4242);
      for (let trial = 0; trial < 25; trial++) {
        const c = randInt(rand, 1, 40);
        const shape =
          rand() < 0.5
            ? [randInt(rand, 1, 4), randInt(rand, 1, 6), randInt(rand, 1, 6), c]
            : [randInt(rand, 2, 30), c];
        const eps = rand() < 0.5 ? 1e-3 : 1e-5;
        // Offset and scaled activations: a mean far from zero is where one-pass variance fails.
        const x = randValues(rand, shape).map((v) => 3 + 5 * v);
        const values = {
          x,
          gamma: randValues(rand, [c]),
          beta: randValues(rand, [c]),
          wy: randValues(rand, shape),
          wm: randValues(rand, [c]),
        };
        const got = lossAndGrads((a, g, b) => batchNormTrain(a, g, b, eps), values, shape);
        useBackend('cpu');
        const want = lossAndGrads((a, g, b) => reference(a, g, b, eps), values, shape);
        useBackend('wasm');
        expect(got).toHaveLength(6);
        for (let i = 0; i < want.length; i++) {
          // Single-row batches have zero variance: their gradients are huge and ill-conditioned.
          const tol = shape.length === 2 && shape[0] < 3 ? 1e-2 : 2e-4;
          expect({ trial, output: i, err: relError(got[i], want[i]) < tol }).toEqual({
            trial,
            output: i,
            err: true,
          });
        }
      }
    },
  );

  itIf(openBlasPresent, NO_OPENBLAS)(
    'trains a BatchNormalization model as the unfused layer does: same loss curve, weights and moving statistics',
    async () => {
      const build = () => {
        const m = tf.sequential({
          layers: [
            tf.layers.conv2d({
              inputShape: [8, 8, 3],
              filters: 6,
              kernelSize: 3,
              kernelInitializer: 'glorotUniform',
              useBias: false,
            }),
            tf.layers.batchNormalization({ momentum: 0.9 }),
            tf.layers.reLU({ maxValue: 6 }),
            tf.layers.flatten(),
            tf.layers.dense({ units: 3 }),
          ],
        });
        return m;
      };
      const run = async (native: boolean) => {
        useNativeBlas(native);
        const model = build();
        const opt = tf.train.sgd(0.05);
        const seeded = model
          .getWeights()
          .map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', 11 + i));
        model.setWeights(seeded);
        const x = tf.randomNormal([6, 8, 8, 3], 1, 2, 'float32', 5);
        const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
        const losses: number[] = [];
        const counts: number[] = [];
        const step = () =>
          tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
            y,
            model.apply(x, { training: true }) as tf.Tensor,
          );
        for (let i = 0; i < 12; i++) {
          const l = tf.tidy(() => opt.minimize(step, true) ?? tf.scalar(NaN));
          losses.push(l.dataSync()[0]);
          l.dispose();
          counts.push(tf.memory().numTensors);
        }
        const kernels = new Set(
          (await tf.profile(() => tf.tidy(() => void opt.minimize(step)))).kernels.map((k) => k.name),
        );
        const weights = model.getWeights().map((w) => w.dataSync<'float32'>().slice());
        tf.dispose([x, y, ...seeded]);
        model.dispose();
        opt.dispose();
        return { losses, weights, counts, kernels };
      };
      const fused = await run(true);
      const plain = await run(false);
      // The fused kernels ran with the addon on; the layer's own ops with it off.
      expect(fused.kernels.has(BN_TRAIN_KERNEL)).toBe(true);
      expect(fused.kernels.has(BN_TRAIN_GRAD_KERNEL)).toBe(true);
      expect(fused.kernels.has('FusedBatchNorm')).toBe(false);
      expect(plain.kernels.has(BN_TRAIN_KERNEL)).toBe(false);
      expect(plain.kernels.has('FusedBatchNorm')).toBe(true);
      expect(new Set(fused.counts.slice(2)).size).toBe(1);
      expect(fused.losses[11]).toBeLessThan(fused.losses[0] * 0.7);
      for (let i = 0; i < 12; i++) expect(fused.losses[i]).toBeCloseTo(plain.losses[i], 4);
      // conv kernel, gamma, beta, moving mean, moving variance, dense kernel and bias
      expect(fused.weights).toHaveLength(7);
      for (let i = 0; i < fused.weights.length; i++)
        expect(relError(fused.weights[i], plain.weights[i])).toBeLessThan(1e-4);
    },
  );
});
