import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { useNativeBlas } from './native-blas';
import { useSimdKernels } from './simd';
import { prng, randInt, randValues, relError, runKernelOn } from './test-utils';

describe('wasm replacements for slow shipped kernels', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    useNativeBlas(false); // these test the wasm paths; native-conv.spec.ts tests the native ones
  });
  afterAll(() => useNativeBlas(true));

  afterEach(() => useSimdKernels(true));

  // With at most 4 input channels the SIMD gather kernel runs (unless turned off), else XNNPACK.
  it.each([true, false])(
    'Conv2DBackpropInput matches cpu on randomized shapes, strides and paddings (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(17);
      const fixed = [
        {
          xShape: [1, 32, 32, 3],
          filterShape: [3, 3, 3, 32],
          strides: [2, 2] as [number, number],
          pad: 'same',
        },
        {
          xShape: [2, 28, 28, 1],
          filterShape: [3, 3, 1, 32],
          strides: [1, 1] as [number, number],
          pad: 'valid',
        },
      ];
      for (let trial = 0; trial < 80 + fixed.length; trial++) {
        const fh = randInt(rand, 1, 4);
        const fw = randInt(rand, 1, 4);
        let strides: [number, number] = [randInt(rand, 1, 3), randInt(rand, 1, 3)];
        const r = rand();
        let pad: string | number[][] =
          r < 0.35
            ? 'same'
            : r < 0.7
              ? 'valid'
              : [
                  [0, 0],
                  [randInt(rand, 0, 2), randInt(rand, 0, 2)],
                  [randInt(rand, 0, 2), randInt(rand, 0, 2)],
                  [0, 0],
                ];
        let xShape = [
          randInt(rand, 1, 3),
          randInt(rand, fh, fh + 7),
          randInt(rand, fw, fw + 7),
          randInt(rand, 1, 7),
        ];
        let filterShape = [fh, fw, xShape[3], randInt(rand, 1, 37)];
        if (trial >= 80) ({ xShape, filterShape, strides, pad } = fixed[trial - 80]);
        const info = tf.backend_util.computeConv2DInfo(
          xShape as [number, number, number, number],
          filterShape as [number, number, number, number],
          strides,
          1,
          pad as 'same',
        );
        const inputs = {
          dy: { shape: info.outShape, values: randValues(rand, info.outShape) },
          filter: { shape: filterShape, values: randValues(rand, filterShape) },
        };
        const attrs = { strides, pad, dataFormat: 'NHWC', inputShape: xShape };
        const want = runKernelOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
        const got = runKernelOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
        const ctx = JSON.stringify({ xShape, filterShape, strides, pad });
        expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: xShape });
        expect({ ctx, ok: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, ok: true });
      }
    },
  );

  it('BatchMatMul and _FusedMatMul match cpu for every transpose combination', () => {
    const rand = prng(23);
    for (let trial = 0; trial < 40; trial++) {
      const [m, k, n] = [randInt(rand, 1, 40), randInt(rand, 1, 40), randInt(rand, 1, 40)];
      const batch = randInt(rand, 1, 3);
      const transposeA = rand() < 0.5;
      const transposeB = rand() < 0.5;
      const aShape = [batch, ...(transposeA ? [k, m] : [m, k])];
      const bShape = [batch, ...(transposeB ? [n, k] : [k, n])];
      const inputs = {
        a: { shape: aShape, values: randValues(rand, aShape) },
        b: { shape: bShape, values: randValues(rand, bShape) },
      };
      const ctx = JSON.stringify({ aShape, bShape, transposeA, transposeB });
      const attrs = { transposeA, transposeB };
      const want = runKernelOn('cpu', 'BatchMatMul', inputs, attrs);
      expect({
        ctx,
        ok: relError(runKernelOn('wasm', 'BatchMatMul', inputs, attrs).values, want.values) < 1e-4,
      }).toEqual({ ctx, ok: true });
      const bias = { shape: [n], values: randValues(rand, [n]) };
      const fusedAttrs = { transposeA, transposeB, activation: 'relu' };
      const wantFused = runKernelOn('cpu', '_FusedMatMul', { ...inputs, bias }, fusedAttrs);
      const gotFused = runKernelOn('wasm', '_FusedMatMul', { ...inputs, bias }, fusedAttrs);
      expect({ ctx, ok: relError(gotFused.values, wantFused.values) < 1e-4 }).toEqual({ ctx, ok: true });
    }
  });
});
