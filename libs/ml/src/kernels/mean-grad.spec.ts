import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { REPEAT_ROWS_KERNEL } from './mean-grad';
import { prng, randInt, randValues, useBackend } from './test-utils';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function meanGrad(
  backend: 'wasm' | 'cpu',
  shape: number[],
  axes: number[],
  x: Float32Array,
  w: Float32Array,
) {
  useBackend(backend);
  return tf.tidy(() => {
    const wt = tf.tensor(
      w,
      shape.filter((_, i) => !axes.includes(i)),
    );
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, axes), wt)))(tf.tensor(x, shape));
    return g.dataSync<'float32'>().slice();
  });
}

describe('Mean gradient on wasm (one write pass over leading axes)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('equals the cpu gradient bit for bit for leading and other axis sets', () => {
    const rand = prng(83);
    for (let trial = 0; trial < 60; trial++) {
      const shape = Array.from({ length: randInt(rand, 2, 4) }, () => randInt(rand, 1, 7));
      const axes =
        trial % 2 === 0
          ? Array.from({ length: randInt(rand, 1, shape.length - 1) }, (_, i) => i)
          : [randInt(rand, 1, shape.length - 1)];
      const x = randValues(rand, shape);
      const w = randValues(
        rand,
        shape.filter((_, i) => !axes.includes(i)),
      );
      const want = meanGrad('cpu', shape, axes, x, w);
      const got = meanGrad('wasm', shape, axes, x, w);
      const ctx = JSON.stringify({ shape, axes });
      expect({ ctx, equal: bytes(got).equals(bytes(want)) }).toEqual({ ctx, equal: true });
    }
  });

  it('is used for leading axes and leaks nothing', async () => {
    useBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([3, 4, 5, 6]);
    let values: number[] = [];
    const profile = await tf.profile(() => {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mean(t, [0, 1, 2])))(x);
      values = Array.from(g.dataSync());
      g.dispose();
    });
    expect(values.every((v) => Math.abs(v - 1 / 60) < 1e-9)).toBe(true);
    expect(profile.kernels.map((k) => k.name)).toContain(REPEAT_ROWS_KERNEL);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
