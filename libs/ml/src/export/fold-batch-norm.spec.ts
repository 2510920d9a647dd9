import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { buildClassifier, ModelZoo } from '../zoo';
import { foldBatchNorm } from './fold-batch-norm';

/** BN layers with non-trivial statistics, so that folding them wrongly shows. */
function randomizeBatchNorms(model: tf.LayersModel, seed: number): void {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.weights.map((w) => {
        const n = w.shape[0]!;
        const name = w.originalName;
        const values = Float32Array.from({ length: n }, () =>
          name.endsWith('moving_variance')
            ? 0.2 + 2 * rand()
            : name.endsWith('gamma')
              ? 0.5 + rand()
              : 2 * rand() - 1,
        );
        return tf.tensor1d(values);
      }),
    );
  }
}

function maxRelativeDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(b), 1e-3))).dataSync()[0]);
}

describe('foldBatchNorm (wasm)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('folds BN after convolutions and depthwise convolutions (with or without bias), leaves what it must not fold, and computes the same function', async () => {
    const input = tf.input({ shape: [12, 12, 3] });
    const seed = (n: number) => tf.initializers.glorotUniform({ seed: n });
    // conv (no bias) -> BN -> relu
    let x = tf.layers
      .conv2d({
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: seed(1),
        name: 'c1',
      })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: 'r1' }).apply(x) as tf.SymbolicTensor;
    // depthwise (multiplier 2, with bias) -> BN
    x = tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        useBias: true,
        depthwiseInitializer: seed(2),
        biasInitializer: 'glorotUniform',
        name: 'd1',
      })
      .apply(x) as tf.SymbolicTensor;
    const d1 = tf.layers.batchNormalization({ name: 'bn2', epsilon: 0.01 }).apply(x) as tf.SymbolicTensor;
    // A convolution whose output is read twice: its BN must stay.
    const c2 = tf.layers
      .conv2d({ filters: 12, kernelSize: 1, kernelInitializer: seed(3), name: 'c2' })
      .apply(d1) as tf.SymbolicTensor;
    const bn3 = tf.layers.batchNormalization({ name: 'bn3' }).apply(c2) as tf.SymbolicTensor;
    // A convolution with an activation: its BN must stay.
    const c3 = tf.layers
      .conv2d({ filters: 12, kernelSize: 1, activation: 'relu', kernelInitializer: seed(4), name: 'c3' })
      .apply(d1) as tf.SymbolicTensor;
    const bn4 = tf.layers.batchNormalization({ name: 'bn4' }).apply(c3) as tf.SymbolicTensor;
    x = tf.layers.add({ name: 'sum' }).apply([bn3, c2, bn4]) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 4, activation: 'softmax', kernelInitializer: seed(5), name: 'out' })
      .apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    randomizeBatchNorms(model, 9);

    const { model: folded, folded: count } = await foldBatchNorm(model);
    expect(count).toBe(2);
    expect(folded.layers.map((l) => l.name).filter((n) => n.startsWith('bn'))).toEqual(['bn3', 'bn4']);
    expect(folded.getLayer('c1').getWeights()).toHaveLength(2);
    const x0 = tf.randomUniform([5, 12, 12, 3], -1, 1, 'float32', 3);
    const expected = model.predict(x0) as tf.Tensor;
    const actual = folded.predict(x0) as tf.Tensor;
    expect(maxRelativeDifference(actual, expected)).toBeLessThan(1e-4);
    tf.dispose([x0, expected, actual]);
    folded.dispose();
    model.dispose();
  });

  it('returns a Sequential model or one with nothing to fold as it is', async () => {
    const seq = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }),
        tf.layers.batchNormalization(),
        tf.layers.flatten(),
      ],
    });
    expect(await foldBatchNorm(seq)).toEqual({ model: seq, folded: 0 });
    const input = tf.input({ shape: [4] });
    const plain = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor,
    });
    expect(await foldBatchNorm(plain)).toEqual({ model: plain, folded: 0 });
    seq.dispose();
    plain.dispose();
  });

  it('folds all 52 batch norms of the MobileNetV2 classifier and keeps its predictions', async () => {
    const backbone = await new ModelZoo().load('mobilenet_v2', { seed: 1 });
    const { model } = buildClassifier(backbone, { numClasses: 10, seed: 1 });
    const { model: folded, folded: count } = await foldBatchNorm(model);
    expect(count).toBe(52);
    expect(folded.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    const x0 = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 5);
    const expected = model.predict(x0) as tf.Tensor;
    const actual = folded.predict(x0) as tf.Tensor;
    expect(maxRelativeDifference(actual, expected)).toBeLessThan(1e-3);
    expect(tf.argMax(actual, 1).arraySync()).toEqual(tf.argMax(expected, 1).arraySync());
    tf.dispose([x0, expected, actual]);
    folded.dispose();
    model.dispose();
  });
});
