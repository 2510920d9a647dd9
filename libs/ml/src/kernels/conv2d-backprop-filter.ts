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
