import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { prng, randInt, randValues, relError, runKernelOn } from './test-utils';

type Pad = 'same' | 'valid' | number[][];

function randomPad(rand: () => number): Pad {
  const r = rand();
  if (r < 0.35) return 'same';
  if (r < 0.7) return 'valid';
  return [
    [0, 0],
    [randInt(rand, 0, 2), randInt(rand, 0, 2)],
    [randInt(rand, 0, 2), randInt(rand, 0, 2)],
    [0, 0],
  ];
}

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('matches the cpu backend on randomized shapes, strides and paddings', () => {
    const rand = prng(20240601);
    for (let trial = 0; trial < 60; trial++) {
      const fh = randInt(rand, 1, 4);
      const fw = randInt(rand, 1, 4);
      const stride = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
      const pad = randomPad(rand);
      const xShape = [
        randInt(rand, 1, 3),
        randInt(rand, fh, fh + 7),
        randInt(rand, fw, fw + 7),
        randInt(rand, 1, 5),
      ];
      const filterShape = [fh, fw, xShape[3], randInt(rand, 1, 5)];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as [number, number, number, number],
        filterShape as [number, number, number, number],
        stride as [number, number],
        1,
        pad as 'same',
      );
      const x = { shape: xShape, values: randValues(rand, xShape) };
      const dy = { shape: info.outShape, values: randValues(rand, info.outShape) };
      const attrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape };
      const ctx = JSON.stringify({ xShape, filterShape, stride, pad });
      const want = runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
      const got = runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
      expect({ ctx, err: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, err: true });
    }
  });

  it('matches the cpu backend on 1x1 stride-1 convolutions (the matrix-product path), both channel orders', () => {
    const rand = prng(77);
    for (let trial = 0; trial < 30; trial++) {
      const ci = randInt(rand, 1, 24);
      const co = trial % 2 === 0 ? randInt(rand, ci, 40) : randInt(rand, 1, ci);
      const xShape = [randInt(rand, 1, 3), randInt(rand, 1, 9), randInt(rand, 1, 9), ci];
      const filterShape = [1, 1, ci, co];
      const pad = trial % 3 === 0 ? 'valid' : 'same';
      const dyShape = [...xShape.slice(0, 3), co];
      const x = { shape: xShape, values: randValues(rand, xShape) };
      const dy = { shape: dyShape, values: randValues(rand, dyShape) };
      const attrs = { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape };
      const ctx = JSON.stringify({ xShape, filterShape, pad });
      const want = runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
      const got = runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
      expect({ ctx, err: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, err: true });
    }
  });
});
