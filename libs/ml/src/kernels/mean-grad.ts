import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Kernel of ours (wasm only): `v / divisor` repeated `rows` times (a broadcast over leading axes). */
export const REPEAT_ROWS_KERNEL = 'ModelsmithRepeatRows';

export const repeatRowsWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { v } = inputs as { v: tf.TensorInfo };
  const { shape, divisor } = attrs as unknown as { shape: number[]; divisor: number };
  const be = backend as BackendWasm;
  const out = be.makeOutput(shape, 'float32');
  const o = be.typedArrayFromHeap(out) as Float32Array;
  const src = be.typedArrayFromHeap(v) as Float32Array;
  const inner = src.length;
  if (o.length === 0) return out;
  // Float32 rounding of the float64 quotient of two float32 values is the float32 quotient.
  for (let i = 0; i < inner; i++) o[i] = src[i] / divisor;
  // Doubling block copies (memcpy speed).
  for (let filled = inner; filled < o.length; filled *= 2)
    o.copyWithin(filled, 0, Math.min(filled, o.length - filled));
  return out;
};

let ours: tf.GradConfig | undefined;

/**
 * Mean's gradient over leading axes (the batch-norm moments over N, H, W) as one write pass:
 * dx = dy / n repeated over the reduced rows. tfjs's gradient fills a ones tensor of x's shape,
 * multiplies and divides (three passes). Other axis sets and backends keep tfjs's gradient. Equal bit
 * for bit. Idempotent.
 */
export function registerMeanGradient(): void {
  if (!tf.getKernel(REPEAT_ROWS_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: REPEAT_ROWS_KERNEL, backendName: 'wasm', kernelFunc: repeatRowsWasm });
  const current = tf.getGradient('Mean');
  if (!current || current === ours) return;
  const shipped = current;
  ours = {
    ...shipped,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      const axes = tf.util
        .parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape)
        .sort((a, b) => a - b);
      const k = axes.length;
      const leading = k > 0 && k < x.rank && axes.every((a, i) => a === i);
      if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || g.dtype !== 'float32' || !leading)
        return shipped.gradFunc(dy, saved, attrs);
      const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
      return {
        x: () =>
          tf.engine().runKernel<tf.Tensor>(REPEAT_ROWS_KERNEL, { v: g }, { shape: x.shape, divisor: rows }),
      };
    },
  };
  tf.registerGradient(ours);
}
