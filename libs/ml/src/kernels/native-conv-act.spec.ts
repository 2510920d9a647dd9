import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { describeIf } from '../../../../test/support/skip';
import { CONV_ACT_KERNEL } from './native-conv-act';
import { NO_OPENBLAS, openBlasPresent, prng, randInt, randValues, relError, useBackend } from './test-utils';

interface Case {
  inShape: [number, number, number, number];
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: 'same' | 'valid';
  activation: 'relu' | 'linear';
  useBias: boolean;
  seed: number;
}

/**
 * A Conv2D layer's output and the gradients of sum(output * r) for its kernel, bias and input, on
 * `backend`, with the kernels its forward pass ran.
 */
async function layerGradients(backend: 'wasm' | 'cpu', c: Case) {
  useBackend(backend);
  const rand = prng(c.seed);
  const layer = tf.layers.conv2d({
    filters: c.filters,
    kernelSize: c.kernelSize,
    strides: c.strides,
    padding: c.padding,
    activation: c.activation,
    useBias: c.useBias,
  });
  layer.build(c.inShape);
  tf.tidy(() =>
    layer.setWeights(
      layer.weights.map((w) => tf.tensor(randValues(rand, w.shape as number[]), w.shape as number[])),
    ),
  );
  const x = tf.tensor4d(randValues(rand, c.inShape), c.inShape);
  const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  let out = new Float32Array(0);
  const grads = tf.tidy(() => {
    const f = (input: tf.Tensor) => {
      const y = layer.apply(input, { training: true }) as tf.Tensor;
      out = y.dataSync<'float32'>().slice();
      const r = tf.tensor(randValues(prng(c.seed + 1), y.shape), y.shape);
      return tf.sum<tf.Scalar>(tf.mul(y, r));
    };
    const { grads: g } = tf.variableGrads(() => f(x), vars);
    const dx = tf.grad(f)(x);
    return [...vars.map((v) => g[v.name].dataSync<'float32'>().slice()), dx.dataSync<'float32'>().slice()];
  });
  const profile = await tf.profile(() => tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor));
  x.dispose();
  layer.weights.forEach((w) => w.dispose());
  return { out, grads, kernels: profile.kernelNames };
}

describeIf(openBlasPresent, NO_OPENBLAS)(
  'Conv2D layer as conv + bias + ReLU in one kernel (native addon)',
  () => {
    beforeAll(async () => {
      await initBackend({ prefer: 'wasm' });
    });

    it("gives the cpu backend's outputs and kernel, bias and input gradients on random layers", async () => {
      const rand = prng(5);
      for (let trial = 0; trial < 30; trial++) {
        const kh = randInt(rand, 1, 4);
        const kw = randInt(rand, 1, 4);
        const c: Case = {
          inShape: [
            randInt(rand, 1, 4),
            randInt(rand, kh, kh + 9),
            randInt(rand, kw, kw + 9),
            randInt(rand, 1, 9),
          ],
          filters: randInt(rand, 1, 12),
          kernelSize: [kh, kw],
          strides: [randInt(rand, 1, 3), randInt(rand, 1, 3)],
          padding: rand() < 0.5 ? 'same' : 'valid',
          activation: rand() < 0.7 ? 'relu' : 'linear',
          useBias: rand() < 0.8,
          seed: 100 + trial,
        };
        const want = await layerGradients('cpu', c);
        const got = await layerGradients('wasm', c);
        const fused = c.activation === 'relu' || c.useBias;
        const ctx = JSON.stringify(c);
        expect({ ctx, ran: got.kernels.includes(CONV_ACT_KERNEL) }).toEqual({ ctx, ran: fused });
        expect({ ctx, out: relError(got.out, want.out) < 1e-5 }).toEqual({ ctx, out: true });
        got.grads.forEach((g, i) => {
          const e = relError(g, want.grads[i]);
          expect({ ctx, i, ok: e < 1e-4 }).toEqual({ ctx, i, ok: true });
        });
      }
    });
  },
);
