import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { buildClassifier, buildFeatureExtractor, multiLayerFeatureExtractor } from './classifier';
import { ModelZoo } from './model-zoo';
import { readNsfwjsModel } from './nsfwjs-source';
import { ZooError } from './zoo-errors';

/** Deterministic pseudo-random image batch in [0, 1]. */
function images(n: number, size: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([n, size, size, 3], 0, 1, 'float32', seed);
}

describe('nsfwjs backbones (offline)', () => {
  const zoo = new ModelZoo();
  let fetchSpy: jest.SpyInstance;

  beforeAll(async () => {
    // wasm runs these 224/299-px convolutions many times faster than the pure-JS cpu backend.
    await initBackend({ prefer: 'wasm' });
  });
  beforeEach(() => {
    fetchSpy = jest
      .spyOn(globalThis, 'fetch')
      .mockImplementation(() => Promise.reject(new Error('network is not allowed in this test')));
  });
  afterEach(() => {
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it('loads MobileNetV2 offline with the pretrained weights and gives the documented 1280-long feature vector', async () => {
    const spec = zoo.get('mobilenet_v2');
    const backbone = await zoo.load('mobilenet_v2');
    expect(backbone.model.outputs[0].shape).toEqual([null, 7, 7, spec.featureDim]);

    // Every kept weight equals tfjs's own dequantization of the full files nsfwjs ships (this checks
    // the truncation and the byte filtering), and sits on its uint8 quantization grid (so it is the
    // pretrained tensor, not a fresh initialization).
    const files = readNsfwjsModel('mobilenet_v2');
    const specs = files.modelJson.weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
    const reference = tf.io.decodeWeights(files.weightData.slice().buffer, specs);
    const weights = backbone.model.weights;
    expect(weights.length).toBeGreaterThan(200);
    expect(weights.length).toBeLessThan(specs.length);
    for (const weight of weights) {
      const expected = reference[weight.originalName];
      expect(expected).toBeDefined();
      expect(tf.max(tf.abs(tf.sub(weight.read(), expected))).dataSync()[0]).toBe(0);
    }
    const conv1 = specs.find((s) => s.name === 'Conv1/kernel')!;
    const { min, scale } = conv1.quantization as { min: number; scale: number };
    const conv1Values = backbone.model.getLayer('Conv1').getWeights()[0].dataSync();
    const levels = new Set<number>();
    for (const v of conv1Values) {
      const level = (v - min) / scale;
      expect(Math.abs(level - Math.round(level))).toBeLessThan(1e-3);
      levels.add(Math.round(level));
    }
    expect(levels.size).toBeGreaterThan(50);
    tf.dispose(Object.values(reference));

    const extractor = buildFeatureExtractor(backbone);
    const x = images(1, 224, 1);
    const features = extractor.predict(x) as tf.Tensor;
    expect(features.shape).toEqual([1, spec.featureDim]);
    const values = await features.data();
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.max(...values)).toBeGreaterThan(0);
    tf.dispose([x, features]);
    backbone.model.dispose();
  }, 120_000);

  it('loads MobileNetV2 at a smaller input size and builds a classifier with freeze handles', async () => {
    const backbone = await zoo.load('mobilenet_v2', { inputSize: { height: 96, width: 96 } });
    expect(backbone.input).toEqual({ height: 96, width: 96, channels: 3 });
    expect(backbone.model.outputs[0].shape).toEqual([null, 3, 3, 1280]);
    const classifier = buildClassifier(backbone, { numClasses: 3, seed: 7 });
    const x = images(2, 96, 2);
    const probabilities = classifier.model.predict(x) as tf.Tensor;
    expect(probabilities.shape).toEqual([2, 3]);
    const sums = await tf.sum(probabilities, 1).data();
    sums.forEach((s) => expect(s).toBeCloseTo(1, 5));

    expect(classifier.trainableBackboneLayers()).toBe(0);
    const headWeights = classifier.model.trainableWeights.map((w) => w.name);
    expect(headWeights).toHaveLength(2);
    expect(headWeights.every((name) => name.startsWith('head_dense'))).toBe(true);
    classifier.unfreezeBackbone({ lastLayers: 5 });
    expect(classifier.trainableBackboneLayers()).toBe(5);
    expect(classifier.model.trainableWeights.length).toBeGreaterThan(2);
    classifier.unfreezeBackbone();
    expect(classifier.trainableBackboneLayers()).toBe(classifier.backboneLayers.length);
    tf.dispose([x, probabilities]);
    classifier.model.dispose();
  }, 120_000);

  it('joins the pooled MobileNetV2 layers into one multi-layer feature vector ending with the usual one', async () => {
    const backbone = await zoo.load('mobilenet_v2', { inputSize: { height: 96, width: 96 } });
    const multi = multiLayerFeatureExtractor(backbone);
    const single = buildFeatureExtractor(backbone);
    const x = images(2, 96, 4);
    const m = multi.predict(x) as tf.Tensor;
    const s = single.predict(x) as tf.Tensor;
    expect(m.shape).toEqual([2, 192 + 576 + 960 + 1280]);
    const mv = await m.data();
    const sv = await s.data();
    expect(mv.every(Number.isFinite)).toBe(true);
    // The last 1280 values of each row are the feature vector of buildFeatureExtractor.
    for (let r = 0; r < 2; r++)
      for (let j = 0; j < 1280; j += 97) expect(mv[r * 3008 + 1728 + j]).toBeCloseTo(sv[r * 1280 + j], 4);
    tf.dispose([x, m, s]);
    backbone.model.dispose();
  }, 120_000);

  it('loads InceptionV3 and gives the documented 2048-long feature vector', async () => {
    const spec = zoo.get('inception_v3');
    const backbone = await zoo.load('inception_v3', { inputSize: { height: 75, width: 75 } });
    const extractor = buildFeatureExtractor(backbone);
    const x = images(1, 75, 3);
    const features = extractor.predict(x) as tf.Tensor;
    expect(features.shape).toEqual([1, spec.featureDim]);
    expect((await features.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, features]);
    backbone.model.dispose();
  }, 120_000);

  it('refuses input sizes a backbone cannot take', async () => {
    await expect(zoo.load('mobilenet_v2', { inputSize: { height: 16, width: 16 } })).rejects.toMatchObject({
      code: 'ZOO_INPUT_SIZE_UNSUPPORTED',
    });
    await expect(
      zoo.load('mobilenet_v2', { inputSize: { height: 96, width: 96, channels: 1 } }),
    ).rejects.toBeInstanceOf(ZooError);
  });
});
