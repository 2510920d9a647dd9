import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../backend';
import { loadNativeBlas, nativeBlas, useNativeBlas } from './native-blas';
import { openBlasPresent, prng, randInt, randValues, relError, runKernelOn } from './test-utils';

type Pad = 'same' | 'valid' | number[][];
function randomPad(rand: () => number): Pad {
  const r = rand();
  if (r < 0.35) return 'same';
  if (r < 0.7) return 'valid';
  const p = () => randInt(rand, 0, 2);
  return [
    [0, 0],
    [p(), p()],
    [p(), p()],
    [0, 0],
  ];
}

/**
 * A random NHWC conv problem; pointwise (1x1, stride 1, no padding) one time in three. `large` ones
 * have an im2col matrix of several of the addon's blocks (2^18 floats each), the last one partial.
 */
function problem(rand: () => number, dilated: boolean, large = false) {
  const pointwise = !large && rand() < 0.33;
  const fh = pointwise ? 1 : randInt(rand, large ? 2 : 1, 4);
  const fw = pointwise ? 1 : randInt(rand, large ? 2 : 1, 4);
  const strides = pointwise || large ? [1, 1] : [randInt(rand, 1, 3), randInt(rand, 1, 3)];
  const dilations =
    dilated && !pointwise && strides[0] === 1 && strides[1] === 1
      ? [randInt(rand, 1, 2), randInt(rand, 1, 2)]
      : [1, 1];
  const pad: Pad = pointwise ? 'valid' : randomPad(rand);
  const extra = large ? 32 : 0;
  const xShape = [
    randInt(rand, 1, 3) + (large ? 3 : 0),
    randInt(rand, fh * dilations[0] + extra, fh * dilations[0] + 7 + extra),
    randInt(rand, fw * dilations[1] + extra, fw * dilations[1] + 7 + extra),
    randInt(rand, 1, 13) + (large ? 16 : 0),
  ];
  const filterShape = [fh, fw, xShape[3], randInt(rand, 1, 19)];
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides as [number, number],
    dilations as [number, number],
    pad as 'same',
  );
  return { xShape, filterShape, strides, dilations, pad, outShape: info.outShape };
}

describe('native BLAS kernels (libs/ml/native, OpenBLAS on the wasm heap)', () => {
  let backend: BackendWasm;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    backend = tf.findBackend('wasm') as unknown as BackendWasm;
  });
  afterEach(() => useNativeBlas(true));

  it('is loaded wherever OpenBLAS is installed, and off when disabled', () => {
    expect(loadNativeBlas() !== null).toBe(openBlasPresent);
    useNativeBlas(false);
    expect(nativeBlas(backend)).toBeNull();
  });

  /**
   * The kernel on wasm against a reference: the cpu backend, or for large problems (where the cpu
   * backend's filter gradient takes seconds) the wasm kernels with the addon off, which their own
   * property tests hold to the cpu backend.
   */
  const versus = (
    kernel: string,
    inputs: Parameters<typeof runKernelOn>[2],
    attrs: Record<string, unknown>,
    large = false,
  ) => {
    const got = runKernelOn('wasm', kernel, inputs, attrs);
    useNativeBlas(!large);
    const want = runKernelOn(large ? 'wasm' : 'cpu', kernel, inputs, attrs);
    useNativeBlas(true);
    expect(got.shape).toEqual(want.shape);
    return relError(got.values, want.values);
  };

  /** 40 randomized trials, every eighth a large one. */
  const cases = (name: string, run: (rand: () => number, large: boolean) => number) =>
    it(`${name} matches the cpu backend (large shapes: the addon-free wasm kernels) on randomized shapes (native ${openBlasPresent ? 'on' : 'absent: wasm path'})`, () => {
      const rand = prng(name.length * 7919);
      for (let trial = 0; trial < 40; trial++) expect(run(rand, trial % 8 === 7)).toBeLessThan(2e-5);
    });

  cases('FusedConv2D (bias, relu6, dilations)', (rand, large) => {
    const p = problem(rand, true, large);
    const inputs = {
      x: { shape: p.xShape, values: randValues(rand, p.xShape) },
      filter: { shape: p.filterShape, values: randValues(rand, p.filterShape) },
      bias: { shape: [p.filterShape[3]], values: randValues(rand, [p.filterShape[3]]) },
    };
    const attrs = {
      strides: p.strides,
      pad: p.pad,
      dataFormat: 'NHWC',
      dilations: p.dilations,
      activation: rand() < 0.5 ? 'relu6' : 'linear',
    };
    return versus('FusedConv2D', inputs, attrs, large);
  });

  cases('Conv2DBackpropFilter', (rand, large) => {
    const p = problem(rand, false, large);
    const inputs = {
      x: { shape: p.xShape, values: randValues(rand, p.xShape) },
      dy: { shape: p.outShape, values: randValues(rand, p.outShape) },
    };
    const attrs = { strides: p.strides, pad: p.pad, dataFormat: 'NHWC', filterShape: p.filterShape };
    return versus('Conv2DBackpropFilter', inputs, attrs, large);
  });

  cases('Conv2DBackpropInput', (rand, large) => {
    const p = problem(rand, false, large);
    const inputs = {
      dy: { shape: p.outShape, values: randValues(rand, p.outShape) },
      filter: { shape: p.filterShape, values: randValues(rand, p.filterShape) },
    };
    const attrs = { strides: p.strides, pad: p.pad, dataFormat: 'NHWC', inputShape: p.xShape };
    return versus('Conv2DBackpropInput', inputs, attrs, large);
  });

  cases('BatchMatMul / _FusedMatMul (transposes, broadcast batch, bias, relu)', (rand) => {
    const [m, k, n] = [randInt(rand, 1, 20), randInt(rand, 1, 20), randInt(rand, 1, 20)];
    const batch = randInt(rand, 1, 3);
    const [ta, tb] = [rand() < 0.5, rand() < 0.5];
    // Rank 2 (as dense layers call it), rank 3 with a batch on one or both sides, or rank 3 by rank 2.
    const form = randInt(rand, 0, 3);
    const lead = (side: number) =>
      form === 0 || (form === 3 && side === 1) ? [] : form === side ? [1] : [batch];
    const fused = rand() < 0.5;
    // _FusedMatMul takes rank-3 operands: tfjs-core's fused matMul (dense layers) reshapes both to
    // [batch, rows, cols] before calling it, and the shipped wasm kernel (the addon-free path) reads
    // shape[1] and shape[2] as rows and cols. BatchMatMul takes any rank >= 2.
    const rank3 = (dims: number[]) => (fused && dims.length === 0 ? [1] : dims);
    const aShape = [...rank3(lead(1)), ta ? k : m, ta ? m : k];
    const bShape = [...rank3(lead(2)), tb ? n : k, tb ? k : n];
    const inputs: Record<string, { shape: number[]; values: Float32Array }> = {
      a: { shape: aShape, values: randValues(rand, aShape) },
      b: { shape: bShape, values: randValues(rand, bShape) },
    };
    if (fused) inputs.bias = { shape: [n], values: randValues(rand, [n]) };
    const kernel = fused ? '_FusedMatMul' : 'BatchMatMul';
    const attrs = { transposeA: ta, transposeB: tb, ...(fused ? { activation: 'relu' } : {}) };
    return versus(kernel, inputs, attrs);
  });

  // Seeded: tfjs-layers' default initialisers draw a new start on every run.
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

  it(`trains a conv net with a constant tensor count, no leaks (native ${openBlasPresent ? 'on' : 'absent: wasm path'})`, () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [12, 12, 3],
          filters: 8,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: seeded(1),
        }),
        tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu6', kernelInitializer: seeded(2) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, kernelInitializer: seeded(3) }),
      ],
    });
    const opt = tf.train.adam(1e-2);
    const x = tf.randomNormal([8, 12, 12, 3], 0, 1, 'float32', 7);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
    const loss = () => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, model.apply(x) as tf.Tensor);
    const first = tf.tidy(() => loss().dataSync()[0]);
    const counts: number[] = [];
    for (let i = 0; i < 30; i++) {
      tf.tidy(() => void opt.minimize(loss));
      counts.push(tf.memory().numTensors);
    }
    const last = tf.tidy(() => loss().dataSync()[0]);
    expect(new Set(counts.slice(2)).size).toBe(1);
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose([x, y]);
    model.dispose();
    opt.dispose();
  });
});
