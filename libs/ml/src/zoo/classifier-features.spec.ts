import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { buildClassifier, multiLayerFeatureExtractor } from './classifier';
import { ModelZoo } from './model-zoo';

/** `features: 'multi'`: the head reads the pooled activations of several MobileNetV2 layers, joined. */
describe("buildClassifier({ features: 'multi' })", () => {
  const SIZE = 48;
  const zoo = new ModelZoo();
  const load = () => zoo.load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE, channels: 3 } });

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('classifies the joined multi-layer features, and the saved model loads and predicts the same', async () => {
    const backbone = await load();
    const clf = buildClassifier(backbone, { numClasses: 3, seed: 2, features: 'multi' });
    expect(clf.features.shape).toEqual([null, 192 + 576 + 960 + 1280]);
    const xs = tf.randomUniform([2, SIZE, SIZE, 3], 0, 1, 'float32', 5);
    // Its features are multiLayerFeatureExtractor's.
    const extractor = tf.model({ inputs: clf.model.inputs, outputs: clf.features });
    const reference = multiLayerFeatureExtractor(backbone);
    const diff = tf.tidy(
      () =>
        tf
          .max(tf.abs(tf.sub(extractor.predict(xs) as tf.Tensor, reference.predict(xs) as tf.Tensor)))
          .dataSync()[0],
    );
    expect(diff).toBeLessThan(1e-4);
    // A plain layers model: saved and loaded with tfjs alone, it predicts the same.
    const probs = clf.model.predict(xs) as tf.Tensor;
    let saved: tf.io.ModelArtifacts | undefined;
    await clf.model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const again = loaded.predict(xs) as tf.Tensor;
    const d2 = tf.tidy(() => tf.max(tf.abs(tf.sub(probs, again))).dataSync()[0]);
    expect(d2).toBeLessThan(1e-5);
    // The default stays the backbone's output, pooled.
    expect(buildClassifier(await load(), { numClasses: 3 }).features.shape).toEqual([null, 1280]);
    tf.dispose([xs, probs, again]);
  });
});
