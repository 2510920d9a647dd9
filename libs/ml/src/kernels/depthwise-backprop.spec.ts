import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels, useSimdKernels } from './simd';
import { prng, randInt, randValues, relError, runKernelOn } from './test-utils';

type Pad = 'same' | 'valid' | number[][];

/**
 * The cpu backend's depthwise backprop kernels ignore dilations, so for dilation > 1 the reference is
 * computed by the cpu kernels on the equivalent undilated problem: the filter with (d-1) zeros
 * inserted between taps.
 */
function dilateFilter(values: Float32Array, shape: number[], dh: number, dw: number) {
  const [fh, fw, c, m] = shape;
  const eh = (fh - 1) * dh + 1;
  const ew = (fw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * c * m);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++)
      for (let k = 0; k < c * m; k++)
        out[(i * dh * ew + j * dw) * c * m + k] = values[(i * fw + j) * c * m + k];
  return { shape: [eh, ew, c, m], values: out };
}

/** Picks the taps of a gradient w.r.t. the dilated filter that belong to the real filter. */
function undilateGrad(values: Float32Array, shape: number[], dh: number, dw: number, fh: number, fw: number) {
  const [, ew, c, m] = shape;
  const out = new Float32Array(fh * fw * c * m);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++)
      for (let k = 0; k < c * m; k++)
        out[(i * fw + j) * c * m + k] = values[(i * dh * ew + j * dw) * c * m + k];
  return out;
}

function randomCase(rand: () => number) {
  const fh = randInt(rand, 1, 4);
  const fw = randInt(rand, 1, 4);
  // tfjs requires strides or dilations to be 1 for depthwise convolutions.
  const strided = rand() < 0.5;
  const strides: [number, number] = strided ? [randInt(rand, 1, 3), randInt(rand, 1, 3)] : [1, 1];
  const dilations: [number, number] = strided ? [1, 1] : [randInt(rand, 1, 3), randInt(rand, 1, 3)];
  const eh = (fh - 1) * dilations[0] + 1;
  const ew = (fw - 1) * dilations[1] + 1;
  const r = rand();
  const pad: Pad =
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
  const c = randInt(rand, 1, 5);
  const xShape = [randInt(rand, 1, 3), randInt(rand, eh, eh + 7), randInt(rand, ew, ew + 7), c];
  const filterShape = [fh, fw, c, randInt(rand, 1, 3)];
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad as 'same',
    undefined,
    true,
  );
  return { xShape, filterShape, strides, dilations, pad, dyShape: info.outShape };
}

describe('wasm depthwise convolution backprop kernels', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  afterEach(() => useSimdKernels(true));

  it.each([true, false])(
    'DepthwiseConv2dNativeBackpropFilter matches cpu on randomized shapes, strides, paddings, dilations and multipliers (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(7);
      for (let trial = 0; trial < 80; trial++) {
        const { xShape, filterShape, strides, dilations, pad, dyShape } = randomCase(rand);
        const x = { shape: xShape, values: randValues(rand, xShape) };
        const dy = { shape: dyShape, values: randValues(rand, dyShape) };
        const [fh, fw] = filterShape;
        const dilatedShape = dilateFilter(
          new Float32Array(filterShape.reduce((a, b) => a * b)),
          filterShape,
          ...dilations,
        ).shape;
        const want = runKernelOn(
          'cpu',
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          {
            strides,
            dilations: [1, 1],
            pad,
            filterShape: dilatedShape,
          },
        );
        const wantValues = undilateGrad(want.values, dilatedShape, ...dilations, fh, fw);
        const got = runKernelOn(
          'wasm',
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { strides, dilations, pad, filterShape },
        );
        const ctx = JSON.stringify({ xShape, filterShape, strides, dilations, pad });
        expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
        expect({ ctx, ok: relError(got.values, wantValues) < 1e-4 }).toEqual({ ctx, ok: true });
      }
    },
  );

  it('DepthwiseConv2dNativeBackpropInput matches cpu on randomized shapes, strides, paddings, dilations and multipliers', () => {
    const rand = prng(11);
    for (let trial = 0; trial < 80; trial++) {
      const { xShape, filterShape, strides, dilations, pad, dyShape } = randomCase(rand);
      const filter = { shape: filterShape, values: randValues(rand, filterShape) };
      const dy = { shape: dyShape, values: randValues(rand, dyShape) };
      const want = runKernelOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: dilateFilter(filter.values, filterShape, ...dilations) },
        {
          strides,
          dilations: [1, 1],
          pad,
          inputShape: xShape,
        },
      );
      const got = runKernelOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter },
        { strides, dilations, pad, inputShape: xShape },
      );
      const ctx = JSON.stringify({ xShape, filterShape, strides, dilations, pad });
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: xShape });
      expect({ ctx, ok: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, ok: true });
    }
  });

  it('DepthwiseConv2dNativeBackpropFilter (SIMD path: multiplier 1, no dilation) matches cpu, including MobileNetV2-sized layers', () => {
    expect(simdKernels(tf.backend() as unknown as BackendWasm)).not.toBeNull();
    const rand = prng(13);
    const cases: { xShape: number[]; strides: [number, number]; pad: Pad; fh: number; fw: number }[] = [];
    for (let trial = 0; trial < 40; trial++) {
      const fh = randInt(rand, 1, 4);
      const fw = randInt(rand, 1, 4);
      const xShape = [
        randInt(rand, 1, 3),
        randInt(rand, fh, fh + 9),
        randInt(rand, fw, fw + 9),
        randInt(rand, 1, 11),
      ];
      const strides: [number, number] = [randInt(rand, 1, 2), randInt(rand, 1, 2)];
      const pad: Pad =
        trial % 3 === 0
          ? 'valid'
          : trial % 3 === 1
            ? 'same'
            : [
                [0, 0],
                [0, 1],
                [1, 0],
                [0, 0],
              ];
      cases.push({ xShape, strides, pad, fh, fw });
    }
    cases.push({ xShape: [2, 28, 28, 144], strides: [1, 1], pad: 'same', fh: 3, fw: 3 });
    cases.push({ xShape: [2, 29, 29, 96], strides: [2, 2], pad: 'valid', fh: 3, fw: 3 });
    for (const { xShape, strides, pad, fh, fw } of cases) {
      const filterShape = [fh, fw, xShape[3], 1];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as [number, number, number, number],
        filterShape as [number, number, number, number],
        strides,
        [1, 1],
        pad as 'same',
        undefined,
        true,
      );
      const x = { shape: xShape, values: randValues(rand, xShape) };
      const dy = { shape: info.outShape, values: randValues(rand, info.outShape) };
      const attrs = { strides, dilations: [1, 1], pad, filterShape };
      const want = runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs);
      const got = runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs);
      const ctx = JSON.stringify({ xShape, filterShape, strides, pad });
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: filterShape });
      expect({ ctx, ok: relError(got.values, want.values) < 1e-4 }).toEqual({ ctx, ok: true });
    }
  });
});
