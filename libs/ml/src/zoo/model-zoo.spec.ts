import * as tf from '@tensorflow/tfjs';
import { normalizationSchema } from '../preprocess/normalization';
import { buildClassifier, buildFeatureExtractor } from './classifier';
import { ModelZoo } from './model-zoo';
import { SMALL_CNN_WIDTHS, smallCnnFeatureDim } from '../catalogue/small-cnn-shape';
import { buildSmallCnn } from './small-cnn';
import { ZooError } from './zoo-errors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ModelZoo registry', () => {
  const zoo = new ModelZoo();

  it('lists every built-in backbone with consistent metadata', () => {
    const specs = zoo.list();
    expect(specs.map((s) => s.id).sort()).toEqual([
      'inception_v3',
      'mobilenet_v2',
      'nas_cnn',
      'small_cnn_m',
      'small_cnn_s',
      'small_cnn_xs',
    ]);
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
    for (const spec of specs) {
      expect(spec.displayName.length).toBeGreaterThan(0);
      expect(spec.featureLayer.length).toBeGreaterThan(0);
      expect(Number.isInteger(spec.featureDim) && spec.featureDim > 0).toBe(true);
      expect(normalizationSchema.safeParse(spec.normalization).success).toBe(true);
      expect(spec.license.spdx).toMatch(/^[A-Za-z0-9.-]+$/);
      expect(spec.license.notes.length).toBeGreaterThan(0);
      expect([1, 3]).toContain(spec.input.channels);
      if (spec.resizable) {
        expect(spec.input.height).toBeGreaterThanOrEqual(spec.resizable.minSize);
        expect(spec.input.height).toBeLessThanOrEqual(spec.resizable.maxSize);
        expect(spec.resizable.channels).toContain(spec.input.channels);
      }
      if (spec.pretrained) {
        expect(spec.source).toMatchObject({ kind: 'npm', package: 'nsfwjs', version: '4.3.0' });
        expect(spec.pretrainedOn).toBeDefined();
      } else {
        expect(spec.source.kind).toBe('builder');
      }
    }
    expect(zoo.get('mobilenet_v2')).toMatchObject({
      input: { height: 224, width: 224, channels: 3 },
      featureDim: 1280,
      license: { spdx: 'MIT' },
    });
    expect(zoo.get('inception_v3')).toMatchObject({
      input: { height: 299, width: 299, channels: 3 },
      featureDim: 2048,
      license: { spdx: 'MIT' },
    });
  });

  it('returns copies, so callers cannot alter the registry', () => {
    const spec = zoo.get('small_cnn_s');
    spec.featureDim = 1;
    expect(zoo.get('small_cnn_s').featureDim).toBe(smallCnnFeatureDim('s'));
  });

  it('refuses unknown ids with ZOO_UNKNOWN_BACKBONE', async () => {
    expect(() => zoo.get('resnet_999')).toThrow(expect.objectContaining({ code: 'ZOO_UNKNOWN_BACKBONE' }));
    await expect(zoo.load('resnet_999')).rejects.toBeInstanceOf(ZooError);
  });

  it.each(Object.keys(SMALL_CNN_WIDTHS))(
    'small_cnn_%s produces its documented feature size at 28 and 64 px',
    async (width) => {
      const id = `small_cnn_${width}`;
      const spec = zoo.get(id);
      for (const [size, channels] of [
        [28, 1],
        [64, 3],
      ] as const) {
        const backbone = await zoo.load(id, { inputSize: { height: size, width: size, channels } });
        const extractor = buildFeatureExtractor(backbone);
        const features = extractor.predict(tf.zeros([2, size, size, channels])) as tf.Tensor;
        expect(features.shape).toEqual([2, spec.featureDim]);
        features.dispose();
        backbone.model.dispose();
      }
      await expect(zoo.load(id, { inputSize: { height: 96, width: 96 } })).rejects.toMatchObject({
        code: 'ZOO_INPUT_SIZE_UNSUPPORTED',
      });
    },
  );
});

describe('buildSmallCnn', () => {
  it('is seeded: the same seed gives the same weights, another seed different ones', () => {
    const weightsOf = (seed: number): Float32Array[] => {
      const model = buildSmallCnn({ width: 'xs', inputShape: [28, 28, 1], seed });
      const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
      model.dispose();
      return values;
    };
    const a = weightsOf(1);
    const b = weightsOf(1);
    const c = weightsOf(2);
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b[i].buffer))).toBe(true));
    expect(Buffer.from(a[0].buffer).equals(Buffer.from(c[0].buffer))).toBe(false);
  });
});

describe('buildClassifier', () => {
  it('adds a softmax head and freezes / unfreezes the backbone', async () => {
    const zoo = new ModelZoo();
    const backbone = await zoo.load('small_cnn_s', { seed: 3 });
    const classifier = buildClassifier(backbone, { numClasses: 4, dropout: 0.3, seed: 5 });
    expect(classifier.headLayers.map((l) => l.getClassName())).toEqual(['Dropout', 'Dense']);
    const probabilities = classifier.model.predict(
      tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 9),
    ) as tf.Tensor;
    expect(probabilities.shape).toEqual([3, 4]);
    (await tf.sum(probabilities, 1).data()).forEach((s) => expect(s).toBeCloseTo(1, 5));

    // Frozen by default: only the head's kernel and bias train.
    expect(classifier.model.trainableWeights.map((w) => w.originalName)).toEqual([
      'head_dense/kernel',
      'head_dense/bias',
    ]);
    classifier.unfreezeBackbone({ lastLayers: 1 });
    expect(classifier.model.trainableWeights.map((w) => w.originalName)).toEqual([
      'features/kernel',
      'features/bias',
      'head_dense/kernel',
      'head_dense/bias',
    ]);
    classifier.unfreezeBackbone();
    expect(classifier.trainableBackboneLayers()).toBe(classifier.backboneLayers.length);
    expect(classifier.model.trainableWeights).toHaveLength(classifier.model.weights.length);
    classifier.freezeBackbone();
    expect(classifier.trainableBackboneLayers()).toBe(0);

    // Training through the frozen backbone changes only the head.
    classifier.model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    const before = classifier.backboneLayers.map((l) => l.getWeights()[0].dataSync().slice());
    const headBefore = classifier.headLayers[1].getWeights()[0].dataSync().slice();
    await classifier.model.fit(
      tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 4),
      tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4),
      {
        epochs: 1,
        batchSize: 8,
        verbose: 0,
      },
    );
    classifier.backboneLayers.forEach((l, i) => expect(l.getWeights()[0].dataSync()).toEqual(before[i]));
    expect(classifier.headLayers[1].getWeights()[0].dataSync()).not.toEqual(headBefore);
    tf.dispose(probabilities);
    classifier.model.dispose();
  });

  it('refuses fewer than two classes', async () => {
    const backbone = await new ModelZoo().load('small_cnn_xs');
    expect(() => buildClassifier(backbone, { numClasses: 1 })).toThrow(RangeError);
    backbone.model.dispose();
  });
});
