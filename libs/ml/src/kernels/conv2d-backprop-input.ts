import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeConvInputGrad } from './native-conv';
import { heapOffset, simdKernels } from './simd';
import { withWasmOps } from './wasm-ops';

/**
 * Largest input-channel count for which the SIMD gather kernel beats XNNPACK. Measured (min of 5
 * interleaved runs): MobileNetV2's image gradient (3 <- 32, 3x3 stride 2, batch 8) ~65-77 -> ~18 ms,
 * the small CNN's (1 <- 32, 3x3, batch 64) ~7.7 -> ~3 ms, 4 <- 32 stride 2 ~16 -> ~6 ms; but with 8 or
 * more input channels XNNPACK's GEMM is 2x faster (8 <- 32 3x3: 3.5 vs 8.5 ms; 1x1 16 <- 96 and
 * 24 <- 144: 0.45-0.6x), since the gather re-reads each dy row per input channel and ends every dot
 * product in a horizontal add.
 */
const SIMD_MAX_IN_CHANNELS = 4;

/**
 * Conv2DBackpropInput for wasm: on the native addon (im2col + OpenBLAS, native-conv.ts) where it is
 * built; otherwise as follows. The shipped kernel is a plain loop (about 20x slower than the forward
 * convolution); this one runs XNNPACK: dy with (s-1) zeros inserted between rows/columns, convolved
 * ("full" padding) by the filter flipped spatially with its in/out channel axes swapped. With at most
 * SIMD_MAX_IN_CHANNELS input channels a WebAssembly SIMD kernel gathers dx directly instead.
 */
export const conv2DBackpropInputWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (dataFormat !== 'channelsLast') throw new Error('wasm Conv2DBackpropInput supports NHWC only');
  const native = nativeConvInputGrad(backend as BackendWasm, dy, filter, a);
  if (native) return native;
  const info = tf.backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as [number, number, number, number],
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
    false,
    dataFormat,
  );
  const {
    inHeight: H,
    inWidth: W,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: fh,
    filterWidth: fw,
  } = info;
  const { batchSize: N, inChannels: Ci, outChannels: Co, outHeight: Ho, outWidth: Wo } = info;
  const simd =
    Ci <= SIMD_MAX_IN_CHANNELS &&
    dy.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    N * H * W * Ci * Co > 0
      ? simdKernels(backend as BackendWasm)
      : null;
  if (simd) {
    // Few input channels (an input image): gather each dx element straight from dy and the filter
    // (kernels.wat) instead of convolving a zero-inserted dy (4x the pixels at stride 2).
    const be = backend as BackendWasm;
    const out = be.makeOutput(a.inputShape, 'float32');
    const [pdy, pf, pout] = [heapOffset(be, dy), heapOffset(be, filter), heapOffset(be, out)];
    const [pt, pl] = [info.padInfo.top, info.padInfo.left];
    simd.convInputGrad(pdy, pf, pout, N, H, W, Ci, Ho, Wo, Co, fh, fw, sh, sw, pt, pl);
    return out;
  }
  return withWasmOps(backend, (ops) => {
    const up = ops.zeroInsert(dy, sh, sw);
    const [, hUp, wUp] = up.shape;
    const flipped = ops.transpose(ops.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const top = fh - 1 - info.padInfo.top;
    const left = fw - 1 - info.padInfo.left;
    return ops.conv(up, flipped, {
      strides: [1, 1],
      dilations: [1, 1],
      pads: [top, H + fh - 1 - hUp - top, left, W + fw - 1 - wUp - left],
      depthwise: false,
    });
  });
};
