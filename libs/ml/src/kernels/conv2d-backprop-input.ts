import * as tf from '@tensorflow/tfjs';
import { withWasmOps } from './wasm-ops';

/**
 * Conv2DBackpropInput for wasm. The shipped kernel is a plain loop (about 20x slower than the forward
 * convolution); this one runs XNNPACK: dy with (s-1) zeros inserted between rows/columns, convolved
 * ("full" padding) by the filter flipped spatially with its in/out channel axes swapped.
 */
export const conv2DBackpropInputWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  if (dataFormat !== 'channelsLast') throw new Error('wasm Conv2DBackpropInput supports NHWC only');
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
