import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Normalization } from './normalization';

/**
 * Views of an image a feature head trains on (each a sample): the image, its mirror image, and its
 * luma (Rec. 601) in every channel. Chosen by 5-fold cross-validation on the source style of both
 * bench/style-shift-views.ts tasks (mean 0.739 vs 0.699 for the image alone); see docs/training.md.
 */
export const FEATURE_HEAD_VIEWS = ['image', 'mirror', 'gray'] as const;
/**
 * Every view {@link viewOf} can show: FEATURE_HEAD_VIEWS plus two that move an image towards another
 * visual style: `sketch` (dark edges on white: the Sobel gradient magnitude of the luma, scaled by
 * each image's largest, inverted; a photo looks like a line drawing) and `posterize` (each channel
 * quantized to 4 levels; a photo looks like flat-coloured clip art).
 */
export const FEATURE_VIEWS = [...FEATURE_HEAD_VIEWS, 'sketch', 'posterize'] as const;
export type FeatureView = (typeof FEATURE_VIEWS)[number];

/**
 * Views a model's prediction may average with the image's (test-time averaging, the manifest's
 * `tta`): the mirror image and the gray one, as {@link viewOf} shows them.
 */
export const TEST_TIME_VIEWS = ['mirror', 'gray'] as const;
export type TestTimeView = (typeof TEST_TIME_VIEWS)[number];

/** A manifest's `tta`: test-time views, each at most once, in TEST_TIME_VIEWS order. */
export const testTimeViewsSchema = z
  .array(z.enum(TEST_TIME_VIEWS))
  .max(TEST_TIME_VIEWS.length)
  .refine((v) => new Set(v).size === v.length, 'a test-time view is listed twice');

/** Per-channel affine map of normalized values to 0..1 pixel values: [scale, offset] (unit = x * scale + offset). */
function unitAffine(normalization: Normalization): [number[], number[]] {
  switch (normalization.kind) {
    case 'unit':
      return [[1], [0]];
    case 'symmetric':
      return [[0.5], [0.5]];
    case 'raw':
      return [[1 / 255], [0]];
    case 'meanStd':
      return [normalization.std, normalization.mean];
  }
}

/**
 * The images with their columns reversed (`tf.reverse(xs, 2)`, the same values), by the backend's
 * FlipLeftRight kernel where it has one: on the wasm backend `tf.reverse` took 96 CPU-ms for 16
 * images of 224x224x3, FlipLeftRight 12 (bench/.probe, 2026-12-07); in the first trial's mirror pass
 * over 194 validation images `tf.reverse` was ~1.7 CPU-s of the training thread (CPU profile).
 */
export function mirrorImages(xs: tf.Tensor4D): tf.Tensor4D {
  return xs.dtype === 'float32' && tf.getKernel('FlipLeftRight', tf.getBackend())
    ? tf.image.flipLeftRight(xs)
    : tf.reverse(xs, 2);
}

/**
 * A batch of normalized images as the view shows them. `gray` takes the luma of the pixel values
 * (normalization undone per channel, then redone; a 1-channel image is its own gray view); `sketch`
 * and `posterize` work on 0..1 pixel values.
 */
export function viewOf(xs: tf.Tensor4D, view: FeatureView, normalization: Normalization): tf.Tensor4D {
  if (view === 'image') return xs.clone();
  if (view === 'mirror') return mirrorImages(xs);
  const channels = xs.shape[3];
  if (channels !== 3 && view === 'gray') return xs.clone();
  return tf.tidy<tf.Tensor4D>(() => {
    const [scale, offset] = unitAffine(normalization);
    const at = (v: number[]) => tf.tensor1d([...Array(channels).keys()].map((c) => v[c] ?? v[0]));
    const unit = xs.mul(at(scale)).add(at(offset));
    const luma = () =>
      channels === 3 ? unit.mul(tf.tensor1d([0.299, 0.587, 0.114])).sum(3, true) : unit.mean(3, true);
    let out: tf.Tensor;
    if (view === 'gray') out = luma().tile([1, 1, 1, 3]);
    else if (view === 'posterize') out = unit.clipByValue(0, 1).mul(3.999).floor().div(3);
    else {
      // Borders repeated (not zero-padded), so a white image border draws no frame.
      const g = tf.mirrorPad(
        luma() as tf.Tensor4D,
        [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ],
        'symmetric',
      );
      const sx = tf.tensor4d([-1, 0, 1, -2, 0, 2, -1, 0, 1], [3, 3, 1, 1]);
      const sy = tf.tensor4d([-1, -2, -1, 0, 0, 0, 1, 2, 1], [3, 3, 1, 1]);
      const gx = tf.conv2d(g, sx, 1, 'valid');
      const gy = tf.conv2d(g, sy, 1, 'valid');
      const mag = gx.square().add(gy.square()).sqrt();
      const top = mag.max([1, 2, 3], true).add(1e-6);
      // Edges at a fifth of the image's strongest are already black: drawn lines, not shading.
      const lines = tf.scalar(1).sub(mag.div(top).mul(5).clipByValue(0, 1));
      out = lines.tile([1, 1, 1, channels]);
    }
    return out.sub(at(offset)).div(at(scale));
  });
}

/** How a model's class probabilities are taken: the image alone, or averaged with these views. */
export interface TestTimeAveraging {
  views: readonly TestTimeView[];
  normalization: Normalization;
}

/** The test-time averaging a manifest declares, or undefined (no `tta`, or an empty one: the image alone). */
export function testTimeAveragingOf(manifest: {
  tta?: readonly TestTimeView[] | undefined;
  normalization: Normalization | null;
}): TestTimeAveraging | undefined {
  if (!manifest.tta?.length || !manifest.normalization) return undefined;
  return { views: manifest.tta, normalization: manifest.normalization };
}

/**
 * The model's class probabilities of `xs` under each view: the image first, then each of `views`
 * ([count x classes] each). The model's output must be probabilities (the classifiers' softmax).
 */
export function viewProbabilities(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  tta: TestTimeAveraging | undefined,
): tf.Tensor2D[] {
  const plain = model.predict(xs) as tf.Tensor2D;
  if (!tta) return [plain];
  return [
    plain,
    ...tta.views.map((view) =>
      tf.tidy(() => model.predict(viewOf(xs, view, tta.normalization)) as tf.Tensor2D),
    ),
  ];
}

/** The mean of the views' probabilities (row by row); a single view's are returned as they are. */
export function averageProbabilities(parts: readonly tf.Tensor2D[]): tf.Tensor2D {
  if (parts.length === 0) throw new RangeError('no view to average');
  if (parts.length === 1) return parts[0].clone();
  return tf.tidy(() => tf.addN(parts as tf.Tensor2D[]).div(parts.length));
}

/**
 * Class probabilities of `xs` as a model with test-time averaging `tta` gives them: the softmax
 * averaged over the image and each view (evaluation, serving, batch prediction and classifyImages
 * all take them from here); without `tta`, the model's output itself.
 */
export function predictProbabilities(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  tta: TestTimeAveraging | undefined,
): tf.Tensor2D {
  if (!tta) return tf.tidy(() => model.predict(xs) as tf.Tensor2D);
  return tf.tidy(() => averageProbabilities(viewProbabilities(model, xs, tta)));
}
