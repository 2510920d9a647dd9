import * as tf from '@tensorflow/tfjs';

export interface ClassificationLossOptions {
  /** What the model outputs: softmax probabilities (default) or unnormalised logits. */
  outputs?: 'probabilities' | 'logits';
  /** Label smoothing epsilon in [0, 1): targets become y * (1 - eps) + eps / numClasses. */
  labelSmoothing?: number;
}

/**
 * Turns labels into one-hot float targets: int class indices of shape [batch] (or [batch, 1]) are
 * one-hot encoded; targets of shape [batch, numClasses] pass through as float32.
 */
export function toOneHot(ys: tf.Tensor, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => {
    if (ys.rank === 2 && ys.shape[1] === numClasses && numClasses > 1)
      return tf.cast(ys, 'float32') as tf.Tensor2D;
    const idx = tf.cast(ys.reshape([-1]), 'int32') as tf.Tensor1D;
    return tf.oneHot(idx, numClasses).toFloat() as tf.Tensor2D;
  });
}

/** Class indices of labels given as indices or one-hot rows. */
export function toClassIndices(ys: tf.Tensor, numClasses: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (ys.rank === 2 && ys.shape[1] === numClasses && numClasses > 1) return tf.argMax<tf.Tensor1D>(ys, 1);
    return tf.cast(ys.reshape([-1]), 'int32') as tf.Tensor1D;
  });
}

/** Mean categorical cross-entropy over the batch, with optional label smoothing. */
export function categoricalCrossentropy(
  ys: tf.Tensor,
  output: tf.Tensor,
  opts: ClassificationLossOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = output.shape[output.shape.length - 1];
    let target = toOneHot(ys, numClasses);
    const eps = opts.labelSmoothing ?? 0;
    if (eps > 0) target = tf.add(tf.mul(target, 1 - eps), eps / numClasses);
    const logProbs =
      (opts.outputs ?? 'probabilities') === 'logits'
        ? tf.logSoftmax(output)
        : tf.log(tf.clipByValue(output, 1e-7, 1));
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), -1))) as tf.Scalar;
  });
}
