import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../backend';
import { useNativeBlas } from './native-blas';
import { simdKernels, useSimdKernels } from './simd';
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

type KernelInput = { shape: number[]; values: Float32Array };

/**
 * The cpu backend's answer (the slow part of this file), computed once per problem: each case runs
 * with the SIMD kernels on and off over the same seeded problems, and the reference is the same.
 */
const references = new Map<string, ReturnType<typeof runKernelOn>>();
function cpuReference(ctx: string, x: KernelInput, dy: KernelInput, attrs: Record<string, unknown>) {
  const checksum = (v: Float32Array) => v.reduce((s, a, i) => s + a * ((i % 7) + 1), 0);
  const key = `${ctx}|${checksum(x.values)}|${checksum(dy.values)}`;
  let want = references.get(key);
  if (!want) {
    want = runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    references.set(key, want);
  }
  return want;
}

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    useNativeBlas(false); // these test the wasm paths; native-conv.spec.ts tests the native ones
  });
  afterAll(() => useNativeBlas(true));

  afterEach(() => useSimdKernels(true));

  it('has the SIMD module (so the SIMD cases below test it, not the fallback)', () => {
    expect(simdKernels(tf.backend() as unknown as BackendWasm)).not.toBeNull();
  });

  it.each([true, false])(
    'matches the cpu backend on randomized shapes, strides and paddings (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
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
          randInt(rand, 1, 13),
        ];
        const filterShape = [fh, fw, xShape[3], randInt(rand, 1, 19)];
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
        const want = cpuReference(ctx, x, dy, attrs);
        const got = runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
        expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
        expect({ ctx, err: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, err: true });
      }
    },
  );

  it.each([true, false])(
    'matches the cpu backend on 1x1 stride-1 convolutions (the matrix-product path), both channel orders (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(77);
      for (let trial = 0; trial < 30; trial++) {
        const ci = randInt(rand, 1, 37);
        const co = trial % 2 === 0 ? randInt(rand, ci, 45) : randInt(rand, 1, ci);
        const xShape = [randInt(rand, 1, 3), randInt(rand, 1, 9), randInt(rand, 1, 9), ci];
        const filterShape = [1, 1, ci, co];
        const pad = trial % 3 === 0 ? 'valid' : 'same';
        const dyShape = [...xShape.slice(0, 3), co];
        const x = { shape: xShape, values: randValues(rand, xShape) };
        const dy = { shape: dyShape, values: randValues(rand, dyShape) };
        const attrs = { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape };
        const ctx = JSON.stringify({ xShape, filterShape, pad });
        const want = cpuReference(ctx, x, dy, attrs);
        const got = runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
        expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
        expect({ ctx, err: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, err: true });
      }
    },
  );

  it.each([true, false])(
    'matches the cpu backend on MobileNetV2 and small-CNN layer shapes (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(91);
      const cases: { xShape: number[]; filterShape: number[]; stride: number; pad: Pad }[] = [
        // Channel counts of MobileNetV2 layers with few pixels (the cpu reference is slow), several
        // pixel blocks of the 1x1 product; its first conv (3 -> 32, stride 2), the small CNN's convs.
        { xShape: [1, 6, 6, 144], filterShape: [1, 1, 144, 24], stride: 1, pad: 'same' },
        { xShape: [1, 8, 8, 64], filterShape: [1, 1, 64, 384], stride: 1, pad: 'same' },
        { xShape: [1, 5, 5, 576], filterShape: [1, 1, 576, 160], stride: 1, pad: 'valid' },
        { xShape: [1, 32, 32, 3], filterShape: [3, 3, 3, 32], stride: 2, pad: 'same' },
        { xShape: [2, 28, 28, 1], filterShape: [3, 3, 1, 32], stride: 1, pad: 'valid' },
        { xShape: [1, 10, 10, 32], filterShape: [3, 3, 32, 64], stride: 1, pad: 'valid' },
        { xShape: [2, 15, 17, 37], filterShape: [2, 3, 37, 45], stride: 2, pad: 'same' },
      ];
      for (const { xShape, filterShape, stride, pad } of cases) {
        const info = tf.backend_util.computeConv2DInfo(
          xShape as [number, number, number, number],
          filterShape as [number, number, number, number],
          [stride, stride],
          1,
          pad as 'same',
        );
        const x = { shape: xShape, values: randValues(rand, xShape) };
        const dy = { shape: info.outShape, values: randValues(rand, info.outShape) };
        const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape };
        const ctx = JSON.stringify({ xShape, filterShape, stride, pad });
        const want = cpuReference(ctx, x, dy, attrs);
        const got = runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
        expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
        expect({ ctx, err: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, err: true });
      }
    },
  );
});
