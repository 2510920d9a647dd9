import * as tf from '@tensorflow/tfjs';
import { withWasmOps } from './wasm-ops';

/**
 * dx[n,y,x,c] = sum over taps (i,j) and multiplier k of dy[n, oy, ox, c*m + k] * w[i, j, c, k]
 * where y = oy*s + i*d - pt.
 *
 * dy with (s-1) zeros inserted between rows/columns, convolved depthwise by the spatially flipped filter
 * (dilation d, stride 1, "full" padding), gives every (c, k) product; the m multipliers are summed out.
 */
export const depthwiseConv2dNativeBackpropInputWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: fh, filterWidth: fw, effectiveFilterHeight: eh, effectiveFilterWidth: ew } = info;
  const m = filter.shape[3];
  return withWasmOps(backend, (ops) => {
    const up = ops.zeroInsert(dy, sh, sw);
    const [, hUp, wUp] = up.shape;
    const flipped = ops.reshape(ops.reverse(filter, [0, 1]), [fh, fw, C * m, 1]);
    const top = eh - 1 - info.padInfo.top;
    const left = ew - 1 - info.padInfo.left;
    const out = ops.conv(up, flipped, {
      strides: [1, 1],
      dilations: [dh, dw],
      pads: [top, H + eh - 1 - hUp - top, left, W + ew - 1 - wUp - left],
      depthwise: true,
    });
    return m === 1 ? out : ops.sum(ops.reshape(out, [N, H, W, C, m]), [4]);
  });
};
