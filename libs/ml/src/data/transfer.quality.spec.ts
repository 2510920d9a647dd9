import { initBackend } from '../backend';
import { evaluateModel } from '../eval';
import { freezeLayers, train } from '../train';
import { ModelZoo, buildClassifier, type LoadedBackbone } from '../zoo';
import { imageBatches, loadFashionMnist, subsetByClass, type ImageDataset } from '.';

/**
 * Quality gate (issue 3, item 9b): a backbone the project pretrains on five Fashion-MNIST classes
 * transfers to the other five with 20 training images per class better than training the same
 * network from scratch on the same 100 images — mean over 6 seeds, measured on the official test
 * images (1,000 per class) of the five target classes.
 *
 * Source classes: Trouser, Sandal, Sneaker, Bag, Ankle boot (all their 30,000 training images,
 * 4 epochs). Target classes: T-shirt/top, Pullover, Dress, Coat, Shirt — the five mutually
 * confusable upper-body garments, where 100 images are too few to learn good features from scratch.
 * Transfer = the pretrained convolution blocks of the zoo's small_cnn_xs, frozen, with a fresh dense
 * feature layer and head; scratch = the same network randomly initialised. Both train 40 epochs
 * (adam 2e-3, batch 20).
 *
 * Measured (wasm + native kernels, 2026-12-03): source-test accuracy 98.0%; target-test accuracy
 * scratch 64.7/64.2/64.4/65.2/62.1/66.4% (mean 64.5%), transfer 69.4/69.3/69.2/68.3/64.0/71.7%
 * (mean 68.7%): +4.2 points, transfer ahead on every seed (by 1.9-5.3). With 2 pretraining epochs
 * and 3 seeds (the earlier setup) the gap was +3.0 points on the wasm kernels and +1.8 after the
 * native kernels changed the float rounding (per seed 1.1-2.5; 6 seeds: +2.0, one seed +0.2): too
 * close to the margin to be a gate, so the backbone now pretrains longer and the mean has more seeds.
 * The asserted margin is 2 points. Other measured setups (see docs/ml-engine.md): with the
 * first five classes as source, scratch on the last five (footwear, bag, shirt) already reaches
 * 90% and no transfer variant beat it; fine-tuning the whole pretrained backbone, or freezing it
 * including its dense feature layer, did worse than transferring the convolutions only.
 */
const SOURCE = [1, 5, 7, 8, 9];
const TARGET = [0, 2, 3, 4, 6];
const SEEDS = [1, 2, 3, 4, 5, 6];
const FEW_SHOT_PER_CLASS = 20;
const FEW_SHOT_EPOCHS = 40;
const ASSERTED_MARGIN = 0.02;
const CONV_BLOCK = /^block\d+_/;

const INPUT = { height: 28, width: 28, channels: 1 as const };
type Mode = 'scratch' | 'transfer';

describe('transfer quality (Fashion-MNIST, 5 pretraining classes -> 5 new classes, 20 images each)', () => {
  it('transfer beats training from scratch by a clear margin (mean over 6 seeds)', async () => {
    await initBackend();
    const trainSet = await loadFashionMnist({ split: 'train' });
    const testSet = await loadFashionMnist({ split: 'test' });
    const zoo = new ModelZoo();

    // 1. Pretrain the backbone on the source classes.
    const source = subsetByClass(trainSet, { classes: SOURCE });
    const pretrainedBackbone = await zoo.load('small_cnn_xs', { inputSize: INPUT, seed: 7 });
    const pre = buildClassifier(pretrainedBackbone, {
      numClasses: SOURCE.length,
      freezeBackbone: false,
      seed: 7,
    });
    await train(pre.model, {
      data: imageBatches(source, { batchSize: 64, shuffle: true }),
      epochs: 4,
      seed: 0,
      learningRate: 2e-3,
      lrSchedule: { type: 'cosine', warmupSteps: 30 },
    });
    const sourceTest = subsetByClass(testSet, { classes: SOURCE });
    const preReport = await evaluateModel(pre.model, imageBatches(sourceTest, { batchSize: 500 }));

    // 2. Few-shot runs on the target classes.
    const targetTest = subsetByClass(testSet, { classes: TARGET });
    const acc: Record<Mode, number[]> = { scratch: [], transfer: [] };
    for (const seed of SEEDS) {
      const few = subsetByClass(trainSet, { classes: TARGET, perClass: FEW_SHOT_PER_CLASS, seed });
      expect(few.count).toBe(100);
      for (const mode of ['scratch', 'transfer'] as const) {
        const backbone = await zoo.load('small_cnn_xs', { inputSize: INPUT, seed: 1000 + seed });
        if (mode === 'transfer') copyConvBlocks(pretrainedBackbone, backbone);
        acc[mode].push(await fewShot(backbone, few, targetTest, seed, mode));
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `transfer quality: source-test accuracy ${preReport.accuracy.toFixed(4)}; target-test accuracy ` +
        `scratch ${acc.scratch.map((a) => a.toFixed(4)).join('/')} (mean ${mean(acc.scratch).toFixed(4)}), ` +
        `transfer ${acc.transfer.map((a) => a.toFixed(4)).join('/')} (mean ${mean(acc.transfer).toFixed(4)})`,
    );
    expect(mean(acc.transfer)).toBeGreaterThanOrEqual(mean(acc.scratch) + ASSERTED_MARGIN);
    pre.model.dispose();
  }, 1_800_000);
});

/** Copies the pretrained convolution blocks (the zoo's small CNN names them block<i>_*). */
function copyConvBlocks(from: LoadedBackbone, to: LoadedBackbone): void {
  for (const layer of to.model.layers) {
    if (CONV_BLOCK.test(layer.name)) layer.setWeights(from.model.getLayer(layer.name).getWeights());
  }
}

async function fewShot(
  backbone: LoadedBackbone,
  few: ImageDataset,
  test: ImageDataset,
  seed: number,
  mode: Mode,
): Promise<number> {
  const clf = buildClassifier(backbone, {
    numClasses: few.classNames.length,
    freezeBackbone: false,
    seed: 2000 + seed,
  });
  // Transfer keeps the pretrained convolutions frozen; the dense feature layer and the head learn.
  if (mode === 'transfer') freezeLayers(clf.model, CONV_BLOCK);
  await train(clf.model, {
    data: imageBatches(few, { batchSize: 20, shuffle: true }),
    epochs: FEW_SHOT_EPOCHS,
    seed,
    learningRate: 2e-3,
  });
  const report = await evaluateModel(clf.model, imageBatches(test, { batchSize: 500 }));
  clf.model.dispose();
  return report.accuracy;
}
