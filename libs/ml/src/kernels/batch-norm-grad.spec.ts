import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { BN_GRAD_SUMS_KERNEL } from './batch-norm-grad';
import { useSimdKernels } from './simd';
import { prng, randInt, randValues, relError, useBackend } from './test-utils';

type Case = { shape: number[]; x: Float32Array; w: Float32Array; gamma: Float32Array; beta: Float32Array };

/**
 * Gradients of sum(batchNorm(x, moments(x), beta, gamma) * w) w.r.t. x, gamma and beta, with the
 * statistics taken over every axis but the last, as a training-mode batch-norm layer computes them
 * (so the gradient also flows back through the mean and variance).
 */
function grads(backend: 'wasm' | 'cpu', k: Case): Float32Array[] {
  useBackend(backend);
  return tf.tidy(() => {
    const c = k.shape[k.shape.length - 1];
    const axes = k.shape.slice(0, -1).map((_, i) => i);
    const w = tf.tensor(k.w, k.shape);
    const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, axes);
      const y = tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
      return tf.sum(tf.mul(y, w));
    };
    const all = tf.grads(f)([tf.tensor(k.x, k.shape), tf.tensor1d(k.gamma), tf.tensor1d(k.beta)]);
    expect(all.map((t) => t.shape)).toEqual([k.shape, [c], [c]]);
    return all.map((t) => t.dataSync<'float32'>().slice());
  });
}

describe('FusedBatchNorm gradient on wasm (two per-channel sums)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  afterEach(() => useSimdKernels(true));

  it.each([true, false])(
    'equals the cpu gradients (x, scale, offset; through the moments) on random shapes and offsets (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(71);
      for (let trial = 0; trial < 30; trial++) {
        const shape = Array.from({ length: randInt(rand, 2, 4) }, () => randInt(rand, 2, 6));
        const c = shape[shape.length - 1];
        const shift = trial % 3 === 0 ? 20 : 0.5; // a large mean relative to the spread, sometimes
        const k: Case = {
          shape,
          x: randValues(rand, shape).map((v) => v * 2 + shift),
          w: randValues(rand, shape),
          gamma: randValues(rand, [c]).map((v) => v + 1.5),
          beta: randValues(rand, [c]),
        };
        const want = grads('cpu', k);
        const got = grads('wasm', k);
        const ctx = JSON.stringify({ shape, shift });
        expect({ ctx, n: got.length }).toEqual({ ctx, n: want.length });
        want.forEach((wv, i) => {
          expect({ ctx, i, ok: relError(got[i], wv) < 1e-4 }).toEqual({ ctx, i, ok: true });
        });
      }
    },
  );

  it('runs the fused sums kernel instead of the element-wise chain, and leaks nothing', async () => {
    useBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([2, 5, 5, 3], -1, 1, 'float32', 1);
    const gamma = tf.ones([3]);
    const beta = tf.zeros([3]);
    let sum = 0;
    const profile = await tf.profile(() => {
      const g = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.square(tf.batchNorm(a, mean, variance, o, s, 1e-3)));
      })([x, gamma, beta]);
      sum = tf.tidy(() => g[1].sum().dataSync()[0]);
      tf.dispose(g);
    });
    expect(Number.isFinite(sum)).toBe(true);
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain(BN_GRAD_SUMS_KERNEL);
    expect(names).not.toContain('Tile');
    tf.dispose([x, gamma, beta]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
