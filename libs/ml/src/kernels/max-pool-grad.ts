import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeBlas, wasmHeap } from './native-blas';
import { heapOffset } from './simd';

/**
 * MaxPoolGrad for wasm. tfjs-backend-wasm 4.22 ships one, but its results disagree with the cpu backend
 * (and with the definition); this one routes dy to the first maximum of each window, as cpu does.
 * One pass over the wasm heap: per output pixel, scan the window per channel, then scatter dy; in C
 * on the native addon when it is loaded (the same arithmetic, ~10x faster than this loop in JS).
 */
export const maxPoolGradWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const be = backend as BackendWasm;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const out = be.makeOutput(input.shape, 'float32');
  const blas = nativeBlas(be);
  if (blas?.pool && input.dtype === 'float32' && dy.dtype === 'float32' && N * H * W * C > 0) {
    const shape = [N, H, W, C, Ho, Wo, fh, fw, sh, sw, pt, pl];
    blas.pool(wasmHeap(be), 1, heapOffset(be, input), heapOffset(be, dy), heapOffset(be, out), shape);
    return out;
  }
  // Views are taken after the allocation: growing the heap detaches older views.
  const x = be.typedArrayFromHeap(input) as Float32Array;
  const g = be.typedArrayFromHeap(dy) as Float32Array;
  const dx = be.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    const xBase = n * H * W * C;
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = oy * sh - pt;
      const yLo = Math.max(0, y0);
      const yHi = Math.min(H, y0 + fh);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = ox * sw - pl;
        const xLo = Math.max(0, x0);
        const xHi = Math.min(W, x0 + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let iy = yLo; iy < yHi; iy++) {
          for (let ix = xLo; ix < xHi; ix++) {
            const p = xBase + (iy * W + ix) * C;
            for (let c = 0; c < C; c++) {
              const v = x[p + c];
              if (v > best[c]) {
                best[c] = v;
                where[c] = p + c;
              }
            }
          }
        }
        const q = ((n * Ho + oy) * Wo + ox) * C;
        for (let c = 0; c < C; c++) {
          const w = where[c];
          if (w >= 0) dx[w] += g[q + c];
        }
      }
    }
  }
  return out;
};

/**
 * MaxPool on the native addon (C over the wasm heap; tfjs's cpu-backend values: NaN never wins)
 * where it is loaded, for float32: XNNPACK's wasm kernel took ~4 ns an element (~0.6% of a
 * small-CNN training step's thread time). Otherwise the shipped kernel.
 */
export function nativeMaxPool(shipped: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const a = attrs as unknown as tf.MaxPoolAttrs;
    const be = backend as BackendWasm;
    const blas = nativeBlas(be);
    if (!blas?.pool || x.dtype !== 'float32' || x.shape.length !== 4) return shipped(args);
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const out = be.makeOutput(info.outShape, 'float32');
    if (tf.util.sizeFromShape(info.outShape) === 0 || tf.util.sizeFromShape(x.shape) === 0) return out;
    const shape = [
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
      info.effectiveFilterHeight,
      info.effectiveFilterWidth,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
    ];
    blas.pool(wasmHeap(be), 0, heapOffset(be, x), heapOffset(be, out), 0, shape);
    return out;
  };
}
