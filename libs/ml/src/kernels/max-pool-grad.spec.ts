import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { loadNativeBlas, useNativeBlas } from './native-blas';
import { openBlasPresent, prng, randInt, randValues, relError, runKernelOn } from './test-utils';

describe('wasm MaxPoolGrad', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterEach(() => useNativeBlas(true));

  // The native addon's kernel where it is built, and the JS loop (the path without it) everywhere.
  const paths = [
    { name: `native addon (${openBlasPresent ? 'on' : 'absent: JS path'})`, native: true },
    { name: 'JS path', native: false },
  ];
  for (const { name, native } of paths) {
    it(`matches the cpu backend on randomized shapes, window sizes, strides and paddings: ${name}`, () => {
      expect(loadNativeBlas() !== null).toBe(openBlasPresent);
      useNativeBlas(native);
      const rand = prng(3);
      for (let trial = 0; trial < 60; trial++) {
        const filterSize: [number, number] = [randInt(rand, 1, 4), randInt(rand, 1, 4)];
        const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
        const pad = rand() < 0.5 ? 'same' : 'valid';
        // Channels past one SIMD register (16 floats) one time in three, and ties in the windows
        // (values on a coarse grid) half the time: the first maximum takes the gradient.
        const wide = rand() < 0.33;
        const xShape = [
          randInt(rand, 1, 3),
          randInt(rand, 4, 11),
          randInt(rand, 4, 11),
          wide ? randInt(rand, 17, 40) : randInt(rand, 1, 6),
        ];
        const coarse = rand() < 0.5;
        const xv = randValues(rand, xShape).map((v) => (coarse ? Math.round(v * 2) / 2 : v));
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
        const ctx = JSON.stringify({ xShape, filterSize, strides, pad, coarse });
        expect({ ctx, ok: relError(got.values, want.values) < 1e-6 }).toEqual({ ctx, ok: true });
      }
    });
  }

  it(`MaxPool matches the cpu backend on randomized shapes, window sizes, strides and paddings: native addon (${openBlasPresent ? 'on' : 'absent: shipped kernel'})`, () => {
    const rand = prng(4);
    for (let trial = 0; trial < 60; trial++) {
      const filterSize: [number, number] = [randInt(rand, 1, 4), randInt(rand, 1, 4)];
      const strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
      const pad = rand() < 0.5 ? 'same' : 'valid';
      const xShape = [
        randInt(rand, 1, 3),
        randInt(rand, 4, 11),
        randInt(rand, 4, 11),
        rand() < 0.33 ? randInt(rand, 17, 40) : randInt(rand, 1, 6),
      ];
      const inputs = { x: { shape: xShape, values: randValues(rand, xShape) } };
      const attrs = { filterSize, strides, pad };
      const want = runKernelOn('cpu', 'MaxPool', inputs, attrs);
      const got = runKernelOn('wasm', 'MaxPool', inputs, attrs);
      const ctx = JSON.stringify({ xShape, filterSize, strides, pad });
      expect({ ctx, shape: got.shape, ok: relError(got.values, want.values) === 0 }).toEqual({
        ctx,
        shape: want.shape,
        ok: true,
      });
    }
  });
});
