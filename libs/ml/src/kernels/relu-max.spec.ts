import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { CLIP_GRAD_KERNEL } from './clip-grad';
import { prng, useBackend } from './test-utils';

/** Values where relu-then-clip's gradient changes, around 0 and maxValue, and random ones. */
function inputs(maxValue: number, seed: number): Float32Array {
  const rand = prng(seed);
  const next = (v: number, dir: 1 | -1) => {
    const f = new Float32Array([v]);
    const bits = new Int32Array(f.buffer);
    bits[0] += v >= 0 ? dir : -dir;
    return f[0];
  };
  const special = [
    -0,
    0,
    2 ** -149,
    -(2 ** -149),
    maxValue,
    next(maxValue, 1),
    next(maxValue, -1),
    -maxValue,
  ];
  const out = new Float32Array(512);
  out.set(special);
  for (let i = special.length; i < out.length; i++) out[i] = (rand() * 1.6 - 0.3) * maxValue;
  return out;
}

/** The layer's output and d(sum(y * w))/dx on the current backend, and the kernels they ran. */
async function run(maxValue: number, values: Float32Array, w: Float32Array) {
  const layer = tf.layers.reLU({ maxValue });
  let result: Float32Array[] = [];
  const profile = await tf.profile(() => {
    result = tf.tidy(() => {
      const x = tf.tensor2d(values, [values.length / 8, 8]);
      const weights = tf.tensor2d(w, x.shape);
      const f = (a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a) as tf.Tensor, weights));
      const y = layer.apply(x) as tf.Tensor;
      return [y, tf.grad(f)(x)].map((t) => t.dataSync<'float32'>().slice());
    });
  });
  return { y: result[0], dx: result[1], kernels: new Set(profile.kernelNames) };
}

describe('ReLU with maxValue as one clip pass (wasm)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    await tf.ready();
  });
  afterEach(() => useBackend('wasm'));

  it.each([6, 1, 0.5, 3.7])(
    'maxValue %p: outputs and gradients equal relu-then-clip on the cpu backend, exactly at 0, -0 and maxValue too',
    async (maxValue) => {
      const values = inputs(maxValue, 17);
      const w = new Float32Array(values.length).map((_, i) => 1 + (i % 7));
      useBackend('cpu');
      const cpu = await run(maxValue, values, w);
      useBackend('wasm');
      const wasm = await run(maxValue, values, w);
      expect(Array.from(wasm.y)).toEqual(Array.from(cpu.y));
      expect(Array.from(wasm.dx)).toEqual(Array.from(cpu.dx));
      // The interesting points: no gradient at 0 and -0 (relu's step), full gradient at maxValue.
      expect(Array.from(wasm.dx.slice(0, 5))).toEqual([0, 0, w[2], 0, w[4]]);
      expect(wasm.dx[5]).toBe(0);
      // The cpu backend keeps the layer's own relu + clip; wasm runs one clip and our gradient.
      expect(cpu.kernels.has('Relu')).toBe(true);
      expect(wasm.kernels.has('Relu')).toBe(false);
      expect(wasm.kernels.has('Step')).toBe(false);
      expect(wasm.kernels.has(CLIP_GRAD_KERNEL)).toBe(true);
    },
  );

  it('leaves a plain ReLU layer (no maxValue) to its own code', async () => {
    const layer = tf.layers.reLU();
    const profile = await tf.profile(() => tf.tidy(() => layer.apply(tf.tensor1d([-1, 0, 2])) as tf.Tensor));
    expect(profile.kernelNames).toContain('Relu');
    expect(profile.kernelNames).not.toContain('ClipByValue');
  });
});
