import * as tf from '@tensorflow/tfjs';

/** A tfjs-layers `Layer.call`, typed on the fields of the layer the replacement reads. */
export type LayerCall<L> = (
  this: L,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
) => tf.Tensor;

/** The one input tensor of a layer call, or undefined when the call has several. */
export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

/**
 * Replaces `call` on the prototype of the tfjs-layers class registered as `className` (the one that
 * deserialized models instantiate) with `replace(original)`. Marks the prototype with `marker` so a
 * second registration does nothing. Returns false when no such class is registered.
 */
export function patchLayerCall<L>(
  className: string,
  marker: symbol,
  replace: (original: LayerCall<L>) => LayerCall<L>,
): boolean {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
  const proto = registered?.[0]?.prototype as (Record<symbol, boolean> & { call: LayerCall<L> }) | undefined;
  if (!proto) return false;
  if (proto[marker]) return true;
  proto.call = replace(proto.call);
  proto[marker] = true;
  return true;
}
