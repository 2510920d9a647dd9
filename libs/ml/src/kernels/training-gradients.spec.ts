import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { useNativeBlas } from './native-blas';
import { NO_OPENBLAS, openBlasPresent, prng, randValues, relError, useBackend } from './test-utils';
import { describeIf } from '../../../../test/support/skip';

/** A MobileNetV2-flavoured net touching every kernel a conv net needs to train. */
function buildNet(): tf.LayersModel {
  const inp = tf.input({ shape: [16, 16, 3] });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    layer.apply(x) as tf.SymbolicTensor;
  let x = apply(
    tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
    inp,
  );
  x = apply(tf.layers.batchNormalization(), x);
  x = apply(tf.layers.reLU({ maxValue: 6 }), x);
  x = apply(
    tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: false }),
    x,
  );
  x = apply(tf.layers.batchNormalization(), x);
  x = apply(tf.layers.reLU({ maxValue: 6 }), x);
  x = apply(
    tf.layers.zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
    }),
    x,
  );
  x = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid' }), x);
  x = apply(tf.layers.conv2d({ filters: 8, kernelSize: 1 }), x);
  const a = apply(tf.layers.maxPooling2d({ poolSize: 2 }), x);
  const b = apply(tf.layers.averagePooling2d({ poolSize: 2 }), x);
  // A filter smaller than its stride with 'same' padding on 4x4 (TensorFlow's total padding along
  // the height would be -1), which the shipped wasm convolution got wrong (same-padding.ts).
  const c = apply(tf.layers.conv2d({ filters: 8, kernelSize: [1, 3], strides: 2, padding: 'same' }), x);
  x = apply(tf.layers.add(), [a, b, c]);
  x = apply(tf.layers.conv2d({ filters: 6, kernelSize: 2, padding: 'valid', activation: 'relu' }), x);
  x = apply(tf.layers.globalAveragePooling2d({}), x);
  return tf.model({ inputs: inp, outputs: apply(tf.layers.dense({ units: 4 }), x) });
}

/**
 * Glorot-uniform kernels from a seeded generator (tfjs-layers' initialisers draw unseeded): the
 * training case's loss curve is then the same on every run, not a new draw each time.
 */
function seedKernels(model: tf.LayersModel, seed: number): void {
  const rand = prng(seed);
  for (const w of model.trainableWeights) {
    const shape = w.shape as number[];
    if (shape.length < 2) continue; // biases, batch-norm scales and offsets keep their constant start
    const size = shape.reduce((a, b) => a * b, 1);
    const limit = Math.sqrt(6 / (size / shape[shape.length - 1] + size / shape[shape.length - 2]));
    w.write(tf.tensor(randValues(rand, shape), shape).mul(limit));
  }
}

function gradientsOn(backend: 'wasm' | 'cpu'): Float32Array[] {
  useBackend(backend);
  const model = buildNet();
  const rand = prng(99);
  for (const w of model.trainableWeights)
    w.write(tf.tensor(randValues(rand, w.shape as number[]), w.shape as number[]).mul(0.5));
  const xs = tf.tensor(randValues(rand, [3, 16, 16, 3]), [3, 16, 16, 3]);
  const ys = tf.oneHot(tf.tensor1d([0, 3, 1], 'int32'), 4);
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
        ys,
        model.apply(xs, { training: true }) as tf.Tensor,
      ),
    vars,
  );
  const out = vars.map((v) => grads[v.name].dataSync<'float32'>());
  tf.dispose([value, xs, ys, grads]);
  model.dispose();
  return out;
}

/**
 * Both configurations of the wasm backend: without the native addon (a machine without
 * libopenblas-dev, or ML_NATIVE_BLAS=off) and with it (where it is built).
 */
const modes = [
  { native: false, title: 'training a conv net on wasm, native addon off (wasm kernels only)', runs: true },
  { native: true, title: 'training a conv net on wasm, native addon on', runs: openBlasPresent },
];

for (const { native, title, runs } of modes) describeIf(runs, NO_OPENBLAS)(title, () => cases(native));

function cases(native: boolean): void {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  beforeEach(() => useNativeBlas(native));
  afterAll(() => useNativeBlas(true));

  it('gives the cpu backend gradients for conv, depthwise, pooling, batch-norm and relu6 layers', () => {
    const wasm = gradientsOn('wasm');
    const cpu = gradientsOn('cpu');
    useBackend('wasm');
    expect(wasm).toHaveLength(cpu.length);
    wasm.forEach((g, i) => expect({ i, ok: relError(g, cpu[i]) < 1e-4 }).toEqual({ i, ok: true }));
  });

  it('trains with optimizer.minimize without leaking tensors', () => {
    useBackend('wasm');
    const model = buildNet();
    seedKernels(model, 17);
    const opt = tf.train.adam(0.01);
    const rand = prng(5);
    const xs = tf.tensor(randValues(rand, [4, 16, 16, 3]), [4, 16, 16, 3]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const step = () =>
      opt.minimize(
        () =>
          tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
            ys,
            model.apply(xs, { training: true }) as tf.Tensor,
          ),
        true,
      ) as tf.Scalar;
    const first = step().dataSync()[0];
    const counts: number[] = [];
    let last = first;
    for (let i = 0; i < 30; i++) {
      const loss = step();
      last = loss.dataSync()[0];
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    // Seeded, the loss falls to about 1e-4 of its start on both configurations (unseeded draws ended
    // from 0.001 to 0.53 of it in 30 steps, and one CI run failed this check).
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose([xs, ys]);
    model.dispose();
    opt.dispose();
  });
}
