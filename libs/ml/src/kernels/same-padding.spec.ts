import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { useNativeBlas } from './native-blas';
import { prng, randInt, randValues, relError, runKernelOn, useBackend } from './test-utils';

/**
 * The shipped forward convolutions with `pad: 'same'` on the addon-free wasm path (what a machine
 * without libopenblas-dev trains and serves with). Before same-padding.ts, every problem whose
 * effective filter is smaller than its stride (on sizes where TensorFlow's total padding would be
 * negative) came back as zeros from XNNPACK.
 */
describe("forward convolutions with 'same' padding on the wasm kernels (addon off)", () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    useNativeBlas(false);
  });
  afterAll(() => useNativeBlas(true));

  const kernels = [
    { kernel: 'Conv2D', depthwise: false, fused: false },
    { kernel: 'FusedConv2D', depthwise: false, fused: true },
    { kernel: 'DepthwiseConv2dNative', depthwise: true, fused: false },
    { kernel: 'FusedDepthwiseConv2D', depthwise: true, fused: true },
  ];

  it.each(kernels)(
    '$kernel matches the cpu backend on randomized shapes, filters smaller than the stride included',
    ({ kernel, depthwise, fused }) => {
      const rand = prng(kernel.length * 104729);
      let negative = 0;
      for (let trial = 0; trial < 60; trial++) {
        // Every other trial has a filter smaller than its stride in at least one dimension.
        const small = trial % 2 === 0;
        const strides = [randInt(rand, small ? 2 : 1, 3), randInt(rand, small ? 2 : 1, 3)];
        const fh = small ? randInt(rand, 1, strides[0] - 1) : randInt(rand, 1, 4);
        const fw = randInt(rand, 1, small ? 3 : 4);
        const ci = randInt(rand, 1, 9);
        const co = depthwise ? ci * randInt(rand, 1, 2) : randInt(rand, 1, 13);
        const xShape = [randInt(rand, 1, 3), randInt(rand, fh, fh + 8), randInt(rand, fw, fw + 8), ci];
        const filterShape = [fh, fw, ci, depthwise ? co / ci : co];
        const [outH, outW] = [Math.ceil(xShape[1] / strides[0]), Math.ceil(xShape[2] / strides[1])];
        if ((outH - 1) * strides[0] + fh < xShape[1] || (outW - 1) * strides[1] + fw < xShape[2]) negative++;
        const inputs: Parameters<typeof runKernelOn>[2] = {
          x: { shape: xShape, values: randValues(rand, xShape) },
          filter: { shape: filterShape, values: randValues(rand, filterShape) },
        };
        if (fused) inputs.bias = { shape: [co], values: randValues(rand, [co]) };
        const attrs = {
          strides,
          pad: 'same',
          dataFormat: 'NHWC',
          dilations: [1, 1],
          ...(fused ? { activation: rand() < 0.5 ? 'relu6' : 'linear' } : {}),
        };
        const got = runKernelOn('wasm', kernel, inputs, attrs);
        const want = runKernelOn('cpu', kernel, inputs, attrs);
        expect(got.shape).toEqual(want.shape);
        expect(relError(got.values, want.values)).toBeLessThan(1e-5);
      }
      // The trials cover the case that was broken (TensorFlow's padding would be negative).
      expect(negative).toBeGreaterThan(5);
    },
  );

  it("a conv layer with a 1x3 filter at stride 2 and 'same' padding predicts as on the cpu backend", () => {
    const build = () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [8, 6, 5],
            filters: 4,
            kernelSize: [1, 3],
            strides: 2,
            padding: 'same',
            kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
          }),
        ],
      });
    const x = randValues(prng(11), [2, 8, 6, 5]);
    const predict = (backend: 'wasm' | 'cpu') => {
      useBackend(backend);
      const model = build();
      const out = tf.tidy(() => (model.predict(tf.tensor4d(x, [2, 8, 6, 5])) as tf.Tensor).dataSync());
      model.dispose();
      return out as Float32Array;
    };
    const want = predict('cpu');
    const got = predict('wasm');
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0.1);
    expect(relError(got, want)).toBeLessThan(1e-5);
  });
});
