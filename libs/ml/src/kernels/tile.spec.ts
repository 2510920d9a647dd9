import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { prng, randInt, randValues, runKernelOn } from './test-utils';

describe('wasm Tile', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('equals the cpu backend on randomized broadcasting and general tilings of ranks 1-5', () => {
    const rand = prng(17);
    let broadcasting = 0;
    for (let trial = 0; trial < 80; trial++) {
      const rank = randInt(rand, 1, 5);
      const shape = Array.from({ length: rank }, () => (rand() < 0.5 ? 1 : randInt(rand, 2, 5)));
      // Half the trials only repeat size-1 axes (the fast path), half repeat any axis.
      const onlyBroadcast = trial % 2 === 0;
      const reps = shape.map((d) => (onlyBroadcast && d !== 1 ? 1 : randInt(rand, 1, 4)));
      if (shape.every((d, i) => d === 1 || reps[i] === 1)) broadcasting++;
      const inputs = { x: { shape, values: randValues(rand, shape) } };
      const want = runKernelOn('cpu', 'Tile', inputs, { reps });
      const got = runKernelOn('wasm', 'Tile', inputs, { reps });
      const ctx = JSON.stringify({ shape, reps });
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: want.shape });
      expect({ ctx, equal: Buffer.from(got.values.buffer).equals(Buffer.from(want.values.buffer)) }).toEqual({
        ctx,
        equal: true,
      });
    }
    expect(broadcasting).toBeGreaterThanOrEqual(40);
  });

  it('leaves no tensors behind', () => {
    void tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const t = tf.tidy(() => tf.tile(tf.ones([1, 1, 1, 8]), [2, 3, 3, 1]).sum());
    expect(t.dataSync()[0]).toBe(2 * 3 * 3 * 8);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
