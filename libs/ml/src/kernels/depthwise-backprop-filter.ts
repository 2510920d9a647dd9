import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd';
import { withWasmOps } from './wasm-ops';

/**
 * dW[i,j,c,k] = sum_{n,oy,ox} x[n, oy*s + i*d - pt, ox*s + j*d - pl, c] * dy[n, oy, ox, c*m + k]
 *
 * With (n, c) folded into one channel axis this is a depthwise convolution of x ([1,H,W,N*C]) by dy used
 * as the filter ([Ho,Wo,N*C,m]): stride = forward dilation, dilation = forward stride; the batch is
 * then summed out.
 */
export const depthwiseConv2dNativeBackpropFilterWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const m = a.filterShape[3];
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const simd =
    m === 1 && dh === 1 && dw === 1 && x.dtype === 'float32' ? simdKernels(backend as BackendWasm) : null;
  if (simd) {
    // One SIMD pass (kernels.wat): no transposes, every tap accumulated per channel, 4 lanes at a time.
    const be = backend as BackendWasm;
    const out = be.makeOutput([fh, fw, C, 1], 'float32');
    (be.typedArrayFromHeap(out) as Float32Array).fill(0);
    const at = (t: tf.TensorInfo) => {
      const data = be.dataIdMap.get(t.dataId);
      if (!data) throw new Error('DepthwiseConv2dNativeBackpropFilter: tensor not in the wasm heap');
      return data.memoryOffset;
    };
    simd.dwFilterGrad(at(x), at(dy), at(out), N, H, W, C, Ho, Wo, fh, fw, sh, sw, pt, pl);
    return out;
  }
  return withWasmOps(backend, (ops) => {
    const xT = ops.reshape(ops.transpose(x, [1, 2, 0, 3]), [1, H, W, N * C]);
    const dyT = ops.reshape(ops.transpose(dy, [1, 2, 0, 3]), [Ho, Wo, N * C, m]);
    const out = ops.conv(xT, dyT, {
      strides: [dh, dw],
      dilations: [sh, sw],
      pads: [pt, (fh - 1) * dh + 1 + (Ho - 1) * sh - H - pt, pl, (fw - 1) * dw + 1 + (Wo - 1) * sw - W - pl],
      depthwise: true,
    });
    const summed =
      N === 1 ? ops.reshape(out, [fh, fw, C * m]) : ops.sum(ops.reshape(out, [fh, fw, N, C * m]), [2]);
    return ops.reshape(summed, [fh, fw, C, m]);
  });
};
