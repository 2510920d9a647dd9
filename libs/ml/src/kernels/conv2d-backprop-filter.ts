import * as tf from '@tensorflow/tfjs';
import { withWasmOps } from './wasm-ops';

/**
 * dW[i,j,ci,co] = sum_{n,oy,ox} x[n, oy*s + i - pt, ox*s + j - pl, ci] * dy[n, oy, ox, co]
 *
 * That is a convolution of x (batch and channel axes swapped: [Ci,H,W,N]) by dy used as the filter
 * ([Ho,Wo,N,Co]), stride 1, dilated by the forward stride. XNNPACK does the heavy lifting.
 */
export const conv2DBackpropFilterWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (dataFormat !== 'channelsLast') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
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
