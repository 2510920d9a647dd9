import type * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;
type Call = (
  this: Layer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

const INFERENCE = Symbol.for('modelsmith.batchNormInference');

interface MarkedLayer {
  [INFERENCE]?: boolean;
  call: Call;
}

export function isBatchNorm(layer: Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

/**
 * Makes these BatchNormalization layers always normalize with their moving mean and variance, as in
 * inference, even when the model is applied with `training: true` (on: true), or restores tfjs's
 * default (on: false: batch statistics in training, and the moving averages updated from them).
 *
 * Why: tfjs-layers' BatchNormalization ignores `trainable` — a frozen layer applied in training
 * normalizes with the batch's own statistics and overwrites its moving averages with them. A
 * pretrained backbone therefore computes different features in training (batch statistics of
 * small, differently-sized batches) than in evaluation (the pretrained moving averages), and a head
 * trained on the former is wrong on the latter. Keras freezes statistics with `trainable = false` or
 * `training=False` for the same reason. Gamma and beta still train when the layer is trainable.
 *
 * The override lives on the layer instances (nothing global changes); it still calls the class's
 * current `call`, so kernel patches of the prototype keep working. It does not survive
 * serialization: a model loaded from files applies its BatchNormalization layers the tfjs way again.
 */
export function setBatchNormInference(layers: readonly Layer[], on: boolean): number {
  let count = 0;
  for (const layer of layers) {
    if (!isBatchNorm(layer)) continue;
    const marked = layer as unknown as MarkedLayer;
    if (on && !marked[INFERENCE]) {
      marked.call = function (this: Layer, inputs, kwargs) {
        const protoCall = (Object.getPrototypeOf(this) as MarkedLayer).call;
        return protoCall.call(this, inputs, { ...kwargs, training: false });
      };
      marked[INFERENCE] = true;
    } else if (!on && marked[INFERENCE]) {
      delete (marked as Partial<MarkedLayer>).call;
      delete marked[INFERENCE];
    }
    count++;
  }
  return count;
}

/** Whether `layer` is a BatchNormalization layer held in inference mode by {@link setBatchNormInference}. */
export function isBatchNormInference(layer: Layer): boolean {
  return (layer as unknown as MarkedLayer)[INFERENCE] === true;
}
