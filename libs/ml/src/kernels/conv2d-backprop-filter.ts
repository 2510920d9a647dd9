import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeConvFilterGrad } from './native-conv';
import { heapOffset, simdKernels } from './simd';
import { withWasmOps } from './wasm-ops';

/**
 * Pixels per block of the SIMD 1x1 product: a block of x and dy rows (about 32 KB) stays in cache
 * while every 4x8 output tile passes over it. Measured on MobileNetV2's 1x1 shapes at batch 8: 32 KB
 * beat 16, 64, 128 KB and fixed blocks of 32-512 pixels (larger blocks fall out of cache for the
 * 7x7x320->1280 layer and lose to XNNPACK there; with 32 KB every layer is faster than XNNPACK).
 */
function pixelBlock(ci: number, co: number): number {
  return Math.max(16, Math.min(1024, Math.floor(32768 / ((ci + co) * 4))));
}

/**
 * dW[i,j,ci,co] = sum_{n,oy,ox} x[n, oy*s + i - pt, ox*s + j - pl, ci] * dy[n, oy, ox, co]
 *
 * Computed by the native addon (im2col + OpenBLAS, native-conv.ts) where it is built, else directly
 * by a WebAssembly SIMD kernel (simd/kernels.wat) when the module is available.
 * Fallback: a convolution of x (batch and channel axes swapped: [Ci,H,W,N]) by dy used as the filter
 * ([Ho,Wo,N,Co]), stride 1, dilated by the forward stride, in XNNPACK (1x1: a matrix product).
 */
export const conv2DBackpropFilterWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (dataFormat !== 'channelsLast') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const native = nativeConvFilterGrad(backend as BackendWasm, x, dy, a);
  if (native) return native;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
    false,
    dataFormat,
  );
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const { batchSize: N, inChannels: Ci, outChannels: Co } = info;
  const pointwise =
    fh === 1 && fw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && Ho === H && Wo === W;
  const simd =
    x.dtype === 'float32' && dy.dtype === 'float32' && N * H * W * Ci * Co > 0
      ? simdKernels(backend as BackendWasm)
      : null;
  if (simd) {
    // One SIMD pass (kernels.wat) reading x and dy in place: 4x8 register tiles of dW, accumulated
    // over pixels (1x1) or, per tap, over each output row's valid pixels (general case). Measured
    // against the XNNPACK paths below at batch 8/64 (min of 5-7 interleaved runs, shared machine):
    // MobileNetV2's 1x1 layers 1.1-1.5x faster (3x at 112x112x32->16, whose transposes dominated),
    // its first 3x3 stride-2 conv ~42 -> ~10 ms, the small CNN's 3x3 convs ~86 -> ~28 and ~7 -> ~1.5
    // ms. No shape measured slower, so it is taken whenever the module is available.
    const be = backend as BackendWasm;
    const out = be.makeOutput([fh, fw, Ci, Co], 'float32');
    (be.typedArrayFromHeap(out) as Float32Array).fill(0);
    const [px, pdy, pout] = [heapOffset(be, x), heapOffset(be, dy), heapOffset(be, out)];
    if (pointwise) simd.convFilterGrad1x1(px, pdy, pout, N * H * W, Ci, Co, pixelBlock(Ci, Co));
    else simd.convFilterGrad(px, pdy, pout, N, H, W, Ci, Ho, Wo, Co, fh, fw, sh, sw, pt, pl);
    return out;
  }
  if (pointwise) {
    // A 1x1 convolution is a matrix product: dW[ci, co] = sum over pixels of x[p, ci] * dy[p, co].
    // Transposing the operand with fewer channels and letting XNNPACK pack the other is 3-7x faster
    // than the convolution form (which packs dy as a H x W "filter").
    return withWasmOps(backend, (ops) => {
      const P = N * H * W;
      const x2 = ops.reshape(x, [1, P, Ci]);
      const dy2 = ops.reshape(dy, [1, P, Co]);
      const matmul = (a: tf.TensorInfo, b: tf.TensorInfo) =>
        ops.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
      if (Ci <= Co) return ops.reshape(matmul(ops.transpose(x2, [0, 2, 1]), dy2), [1, 1, Ci, Co]);
      const dWt = matmul(ops.transpose(dy2, [0, 2, 1]), x2);
      return ops.reshape(ops.transpose(dWt, [0, 2, 1]), [1, 1, Ci, Co]);
    });
  }
  return withWasmOps(backend, (ops) => {
    const xT = ops.transpose(x, [3, 1, 2, 0]);
    const dyT = ops.transpose(dy, [1, 2, 0, 3]);
    const out = ops.conv(xT, dyT, {
      strides: [1, 1],
      dilations: [sh, sw],
      pads: [pt, fh + (Ho - 1) * sh - H - pt, pl, fw + (Wo - 1) * sw - W - pl],
      depthwise: false,
    });
    return ops.transpose(out, [1, 2, 0, 3]);
  });
};
