import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { CLIP_GRAD_KERNEL } from './clip-grad';
import { useSimdKernels } from './simd';
import { prng, randInt, randValues, useBackend } from './test-utils';

/** Gradient of sum(clipByValue(x, lo, hi) * w) w.r.t. x on one backend: w at every kept element. */
function clipGrad(
  backend: 'wasm' | 'cpu',
  x: Float32Array,
  w: Float32Array,
  shape: number[],
  lo: number,
  hi: number,
) {
  useBackend(backend);
  return tf.tidy(() => {
    const wt = tf.tensor(w, shape);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(t, lo, hi), wt)))(tf.tensor(x, shape));
    return g.dataSync<'float32'>().slice();
  });
}

describe('ClipByValue gradient on wasm (one fused kernel)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  afterEach(() => useSimdKernels(true));

  it('is registered and used on wasm', async () => {
    expect(tf.getKernel(CLIP_GRAD_KERNEL, 'wasm')).toBeDefined();
    useBackend('wasm');
    const x = tf.tensor([-1, 0, 3, 6, 7]);
    let values: number[] = [];
    const profile = await tf.profile(() => {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.clipByValue(t, 0, 6)))(x);
      values = Array.from(g.dataSync());
      g.dispose();
    });
    // Kept where 0 <= x <= 6 (bounds included), zero elsewhere; computed by our kernel alone.
    expect(values).toEqual([0, 1, 1, 1, 0]);
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain(CLIP_GRAD_KERNEL);
    expect(names).not.toContain('Select');
    x.dispose();
  });

  it.each([true, false])(
    'equals the cpu gradient bit for bit on random shapes, bounds, ties, NaN and infinities (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(61);
      const specials = [0, 6, -0, NaN, Infinity, -Infinity];
      for (let trial = 0; trial < 40; trial++) {
        const shape = Array.from({ length: randInt(rand, 1, 4) }, () => randInt(rand, 1, 6));
        const lo = trial % 2 === 0 ? 0 : -0.5;
        const hi = trial % 2 === 0 ? 6 : 0.25;
        const x = randValues(rand, shape).map((v) => v * 8);
        for (let i = 0; i < x.length; i++)
          if (rand() < 0.3) x[i] = specials[randInt(rand, 0, specials.length - 1)];
        const w = randValues(rand, shape);
        const want = clipGrad('cpu', x, w, shape, lo, hi);
        const got = clipGrad('wasm', x, w, shape, lo, hi);
        const ctx = JSON.stringify({ shape, lo, hi });
        expect({ ctx, equal: Buffer.from(got.buffer).equals(Buffer.from(want.buffer)) }).toEqual({
          ctx,
          equal: true,
        });
      }
    },
  );

  it('leaves no tensors behind', () => {
    useBackend('wasm');
    const before = tf.memory().numTensors;
    const input = tf.tensor([1, 7]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.clipByValue(t, 0, 6)))(input);
    expect(Array.from(g.dataSync())).toEqual([1, 0]);
    tf.dispose([g, input]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
