import * as tf from '@tensorflow/tfjs';
import { ExplainError } from './explain-error';
import type { ModelImage } from './types';

/** [n, classes] probabilities of a batch, in inference mode (dropout off, batch norms on moving statistics). */
export function probabilities(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D {
  return model.apply(x, { training: false }) as tf.Tensor2D;
}

/** The probabilities of one class for a batch, as a plain array. */
export async function classProbabilities(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  target: number,
): Promise<Float32Array> {
  const column = tf.tidy(() => probabilities(model, x).gather([target], 1).reshape([-1]));
  const values = (await column.data()) as Float32Array;
  column.dispose();
  return values;
}

/** The image as a [1, h, w, c] tensor (caller disposes). */
export function imageTensor(image: ModelImage): tf.Tensor4D {
  const [h, w, c] = image.shape;
  return tf.tensor4d(image.data, [1, h, w, c], 'float32');
}

/** Checks that the image matches the model's input and that `target` is one of its classes. */
export function checkImage(model: tf.LayersModel, image: ModelImage, target: number | undefined): void {
  const [, h, w, c] = model.inputs[0].shape;
  const [ih, iw, ic] = image.shape;
  if (ih !== h || iw !== w || ic !== c)
    throw new ExplainError(
      'EXPLAIN_INPUT_MISMATCH',
      `image is ${ih}x${iw}x${ic}, the model takes ${h}x${w}x${c}`,
    );
  if (image.data.length !== ih * iw * ic)
    throw new ExplainError(
      'EXPLAIN_INPUT_MISMATCH',
      `image data has ${image.data.length} values, not ${ih * iw * ic}`,
    );
  const classes = model.outputs[0].shape[1] ?? 0;
  if (target !== undefined && (!Number.isInteger(target) || target < 0 || target >= classes))
    throw new ExplainError('EXPLAIN_INPUT_MISMATCH', `target class ${target} is not in [0, ${classes})`);
}

/** The predicted class and the probabilities of one image. */
export async function predictOne(
  model: tf.LayersModel,
  image: ModelImage,
): Promise<{ predicted: number; probabilities: Float32Array }> {
  const out = tf.tidy(() => probabilities(model, imageTensor(image)).reshape([-1]));
  const probs = (await out.data()) as Float32Array;
  out.dispose();
  let predicted = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[predicted]) predicted = i;
  return { predicted, probabilities: probs };
}

/** Sums |values| over channels: [h*w*c] -> [h*w]. */
export function channelAbsSum(values: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(values.length / channels);
  for (let p = 0, i = 0; p < out.length; p++) {
    let s = 0;
    for (let k = 0; k < channels; k++, i++) s += Math.abs(values[i]);
    out[p] = s;
  }
  return out;
}

/** Sums values over channels: [h*w*c] -> [h*w]. */
export function channelSum(values: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(values.length / channels);
  for (let p = 0, i = 0; p < out.length; p++) {
    let s = 0;
    for (let k = 0; k < channels; k++, i++) s += values[i];
    out[p] = s;
  }
  return out;
}

/** The input values of a black image (pixel value 0) after the model's normalization, per channel. */
export type Baseline = number | readonly number[];

/** A full image of the baseline values. */
export function baselineImage(shape: [number, number, number], baseline: Baseline = 0): Float32Array {
  const [h, w, c] = shape;
  const out = new Float32Array(h * w * c);
  const values = typeof baseline === 'number' ? [baseline] : baseline;
  if (values.length !== 1 && values.length !== c)
    throw new ExplainError(
      'EXPLAIN_INPUT_MISMATCH',
      `baseline has ${values.length} values for ${c} channels`,
    );
  for (let i = 0; i < out.length; i++) out[i] = values.length === 1 ? values[0] : values[i % c];
  return out;
}

/**
 * Σ over the batch of column `target` of [n, classes] scores, as a one-hot product: tfjs's gradient
 * of `gather` needs UnsortedSegmentSum, which the wasm backend does not have.
 */
export function targetSum(scores: tf.Tensor, target: number): tf.Scalar {
  const classes = scores.shape[1] ?? 0;
  const mask = tf.oneHot(tf.tensor1d([target], 'int32'), classes).reshape([1, classes]);
  return tf.sum(tf.mul(scores, mask));
}
