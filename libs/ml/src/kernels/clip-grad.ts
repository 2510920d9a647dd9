import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from './simd';

/** Kernel of ours (wasm only): the gradient of ClipByValue in one pass. */
export const CLIP_GRAD_KERNEL = 'ModelsmithClipByValueGrad';

/**
 * dx = dy where clipValueMin <= x <= clipValueMax, else 0 (NaN x gives 0), as tfjs defines it:
 * where(logicalAnd(greaterEqual(x, min), lessEqual(x, max)), dy, zerosLike(dy)). tfjs runs that as five
 * kernels over the whole activation; MobileNetV2's ReLU6 layers (clipByValue(0, 6)) made them ~7 ns
 * an element, 12% of a training step. One branchless pass instead: WebAssembly SIMD (kernels.wat), or
 * a JS loop over the heap where the SIMD module cannot be instantiated.
 */
export const clipByValueGradWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as tf.ClipByValueAttrs;
  const be = backend as BackendWasm;
  const out = be.makeOutput(dy.shape, 'float32');
  const simd = simdKernels(be);
  if (simd) {
    const at = (t: tf.TensorInfo) => heapOffset(be, t);
    simd.clipGrad(at(x), at(dy), at(out), tf.util.sizeFromShape(dy.shape), lo, hi);
    return out;
  }
  const xs = be.typedArrayFromHeap(x) as Float32Array;
  const g = be.typedArrayFromHeap(dy) as Float32Array;
  const gBits = new Int32Array(g.buffer, g.byteOffset, g.length);
  const o = be.typedArrayFromHeap(out) as Float32Array;
  const oBits = new Int32Array(o.buffer, o.byteOffset, o.length);
  for (let i = 0; i < oBits.length; i++) {
    const v = xs[i];
    oBits[i] = gBits[i] & -(+(v >= lo) & +(v <= hi));
  }
  return out;
};

let ours: tf.GradConfig | undefined;

/**
 * Routes ClipByValue's gradient to CLIP_GRAD_KERNEL when the wasm backend is active and the shapes and
 * dtypes are the plain ones (float32, x and dy alike); every other case keeps tfjs's own gradient.
 * Idempotent.
 */
export function registerClipByValueGradient(): void {
  if (!tf.getKernel(CLIP_GRAD_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: CLIP_GRAD_KERNEL, backendName: 'wasm', kernelFunc: clipByValueGradWasm });
  const current = tf.getGradient('ClipByValue');
  if (!current || current === ours) return;
  const shipped = current;
  ours = {
    ...shipped,
    kernelName: 'ClipByValue',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      const plain =
        tf.getBackend() === 'wasm' &&
        x.dtype === 'float32' &&
        g.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, g.shape);
      if (!plain) return shipped.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel<tf.Tensor>(CLIP_GRAD_KERNEL, { dy: g, x }, attrs) };
    },
  };
  tf.registerGradient(ours);
}
