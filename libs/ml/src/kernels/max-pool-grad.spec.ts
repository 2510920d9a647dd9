import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { prng, randInt, randValues, relError, runKernelOn } from './test-utils';

describe('wasm MaxPoolGrad', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('matches the cpu backend on randomized shapes, window sizes, strides and paddings', () => {
    const rand = prng(3);
    for (let trial = 0; trial < 60; trial++) {
      const filterSize: [number, number] = [randInt(rand, 1, 4), randInt(rand, 1, 4)];
      const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
      const pad = rand() < 0.5 ? 'same' : 'valid';
      const xShape = [randInt(rand, 1, 3), randInt(rand, 4, 11), randInt(rand, 4, 11), randInt(rand, 1, 6)];
      const xv = randValues(rand, xShape);
      const yShape = tf.backend_util.computePool2DInfo(
        xShape as [number, number, number, number],
        filterSize,
        strides,
        1,
        pad,
      ).outShape;
      const y = runKernelOn(
        'cpu',
        'MaxPool',
        { x: { shape: xShape, values: xv } },
        { filterSize, strides, pad },
      );
      const inputs = {
        dy: { shape: yShape, values: randValues(rand, yShape) },
        input: { shape: xShape, values: xv },
        output: y,
      };
      const attrs = { filterSize, strides, pad };
      const want = runKernelOn('cpu', 'MaxPoolGrad', inputs, attrs);
      const got = runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs);
      const ctx = JSON.stringify({ xShape, filterSize, strides, pad });
      expect({ ctx, ok: relError(got.values, want.values) < 1e-6 }).toEqual({ ctx, ok: true });
    }
  });
});
