import * as tf from '@tensorflow/tfjs';
import { withWasmOps } from './wasm-ops';

/**
 * Tile for the wasm backend when it only broadcasts (every repeated axis has size 1), as in the
 * batch-norm gradient, which tiles a per-channel vector to the whole activation: the shipped
 * kernel walks the output with per-element index arithmetic (~20 ns an element: 40% of a
 * MobileNetV2 training step), while fill + broadcasting add runs at memory speed. Other tilings
 * go to the shipped kernel.
 */
export function broadcastingTile(shipped: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const reps = (args.attrs as unknown as tf.TileAttrs).reps;
    const broadcastOnly =
      x.dtype === 'float32' &&
      reps.length === x.shape.length &&
      x.shape.every((d, i) => d === 1 || reps[i] === 1);
    if (!broadcastOnly) return shipped(args);
    const shape = x.shape.map((d, i) => d * reps[i]);
    return withWasmOps(args.backend, (ops) => {
      const zeros = ops.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
      return ops.run('Add', { a: zeros, b: x });
    });
  };
}
