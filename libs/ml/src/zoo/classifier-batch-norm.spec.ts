import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { arrayBatches, train } from '../train';
import { isBatchNormInference } from './batch-norm-mode';
import { buildClassifier, type Classifier } from './classifier';
import { ModelZoo } from './model-zoo';

/**
 * The majority-class collapse of the pretrained path (issue "AutoDL Transfer"): tfjs-layers'
 * BatchNormalization ignores `trainable`, so a frozen MobileNetV2 applied with `training: true`
 * normalized with batch statistics (and overwrote its moving averages), while evaluation used the
 * moving averages: the head learned on features evaluation never produced. These specs pin the fix:
 * a pretrained backbone's features are the same in training and in inference, and its statistics
 * never move.
 */
const SIZE = 48;
const N = 8;

function images(seed: number): tf.Tensor4D {
  return tf.randomUniform([N, SIZE, SIZE, 3], 0, 1, 'float32', seed);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Values of the backbone's BatchNormalization moving statistics, by weight name. */
function movingStats(clf: Classifier): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const layer of clf.backboneLayers) {
    for (const w of layer.weights)
      if (/moving_(mean|variance)/.test(w.name)) out.set(w.name, w.read().dataSync() as Float32Array);
  }
  return out;
}

function oneBatch(xs: tf.Tensor4D, labels: number[]) {
  const data = xs.dataSync();
  const px = SIZE * SIZE * 3;
  return arrayBatches({
    count: N,
    batchSize: N,
    sampleShape: [SIZE, SIZE, 3],
    fill: (i, out, offset) => {
      out.set(data.subarray(i * px, (i + 1) * px), offset);
      return labels[i];
    },
  });
}

describe('pretrained backbone batch normalization (train mode = inference mode)', () => {
  const zoo = new ModelZoo();
  const load = () => zoo.load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE, channels: 3 } });

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('a frozen MobileNetV2 classifier gives the same outputs applied in training and in inference', async () => {
    const clf = buildClassifier(await load(), { numClasses: 4, dropout: 0, seed: 1 });
    expect(clf.backboneBatchNorm).toBe('inference');
    const x = images(1);
    const inference = clf.model.predict(x) as tf.Tensor;
    const training = clf.model.apply(x, { training: true }) as tf.Tensor;
    // Before the fix the two differed by whole probability units (batch vs moving statistics).
    expect(maxAbsDiff(inference, training)).toBeLessThan(1e-4);
    tf.dispose([x, inference, training]);
    clf.model.dispose();
  });

  it('training the head leaves every backbone weight, moving statistics included, unchanged; the head learns', async () => {
    const clf = buildClassifier(await load(), { numClasses: 4, seed: 1 });
    const before = movingStats(clf);
    const frozenBefore = clf.backboneLayers.flatMap((l) => l.getWeights().map((w) => w.dataSync().slice()));
    const headBefore = clf.headLayers.flatMap((l) => l.getWeights().map((w) => w.dataSync().slice()));
    expect(before.size).toBeGreaterThan(50);
    const xs = images(2);
    await train(clf.model, {
      data: oneBatch(xs, [0, 1, 2, 3, 0, 1, 2, 3]),
      epochs: 2,
      seed: 1,
      learningRate: 1e-2,
    });
    const frozenAfter = clf.backboneLayers.flatMap((l) => l.getWeights().map((w) => w.dataSync()));
    frozenAfter.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(frozenBefore[i])));
    const headAfter = clf.headLayers.flatMap((l) => l.getWeights().map((w) => w.dataSync()));
    expect(headAfter.some((w, i) => w.some((v, j) => v !== headBefore[i][j]))).toBe(true);
    xs.dispose();
    clf.model.dispose();
  });

  it('fine-tuning trains gamma/beta and convolutions but keeps the moving statistics; train and inference outputs still agree', async () => {
    const clf = buildClassifier(await load(), { numClasses: 4, dropout: 0, seed: 1, freezeBackbone: false });
    const before = movingStats(clf);
    const gamma = clf.backboneLayers.find((l) => l.getClassName() === 'BatchNormalization')!;
    const gammaBefore = gamma.getWeights()[0].dataSync().slice();
    const xs = images(3);
    await train(clf.model, {
      data: oneBatch(xs, [0, 1, 2, 3, 0, 1, 2, 3]),
      epochs: 1,
      seed: 1,
      learningRate: 1e-3,
    });
    for (const [name, values] of movingStats(clf))
      expect(Array.from(values)).toEqual(Array.from(before.get(name)!));
    expect(Array.from(gamma.getWeights()[0].dataSync())).not.toEqual(Array.from(gammaBefore));
    const inference = clf.model.predict(xs) as tf.Tensor;
    const training = clf.model.apply(xs, { training: true }) as tf.Tensor;
    expect(maxAbsDiff(inference, training)).toBeLessThan(1e-4);
    tf.dispose([xs, inference, training]);
    clf.model.dispose();
  });

  it("'batch' keeps tfjs's behaviour (batch statistics in training), which is what made train and evaluation differ", async () => {
    const clf = buildClassifier(await load(), {
      numClasses: 4,
      dropout: 0,
      seed: 1,
      backboneBatchNorm: 'batch',
    });
    expect(clf.backboneLayers.some(isBatchNormInference)).toBe(false);
    const x = images(4);
    const inference = clf.model.predict(x) as tf.Tensor;
    const training = clf.model.apply(x, { training: true }) as tf.Tensor;
    expect(maxAbsDiff(inference, training)).toBeGreaterThan(1e-2);
    tf.dispose([x, inference, training]);
    clf.model.dispose();
  });

  it('backbones trained from scratch keep batch statistics by default', async () => {
    const backbone = await zoo.load('small_cnn_xs', { inputSize: { height: 28, width: 28, channels: 1 } });
    const clf = buildClassifier(backbone, { numClasses: 3 });
    expect(clf.backboneBatchNorm).toBe('batch');
    clf.model.dispose();
  });
});
