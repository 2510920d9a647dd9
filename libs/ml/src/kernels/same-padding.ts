import * as tf from '@tensorflow/tfjs';

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
};

/**
 * tfjs-backend-wasm 4.22 hands `pad: 'same'` to XNNPACK as its TensorFlow-SAME flag, and XNNPACK then
 * computes the total padding (out - 1)·stride + effective filter - in without clamping it at 0. Where
 * that is negative (an effective filter smaller than the stride: a 1x3 or 2x2 filter at stride 3, a 1x3
 * one at stride 2 on an even size, ...) the unsigned wrap-around puts every tap in the padding and
 * Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D return zeros (bias and
 * activation only) for the whole output. 1x1 filters take another XNNPACK path and are unaffected.
 * So 'same' is resolved here into the explicit paddings tfjs itself computes (clamped at 0; the
 * output shape is the same) before the shipped kernel runs; everything else passes through.
 */
export function explicitSamePadding(shipped: tf.KernelFunc, depthwise: boolean): tf.KernelFunc {
  return (args) => {
    const a = args.attrs as unknown as ConvAttrs;
    if (a.pad !== 'same' || (a.dataFormat ?? 'NHWC') !== 'NHWC') return shipped(args);
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides,
      a.dilations ?? 1,
      'same',
      a.dimRoundingMode,
      depthwise,
    );
    const { top, bottom, left, right } = info.padInfo;
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    // dimRoundingMode only applies to numeric paddings (tfjs refuses it with 'same').
    const attrs = { ...args.attrs, pad, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
    return shipped({ ...args, attrs });
  };
}
