import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeBlas, wasmHeap } from './native-blas';
import { heapOffset } from './simd';

const ACTIVATIONS: Record<string, 0 | 1 | 2> = { linear: 0, relu: 1, relu6: 2 };

type ConvInfo = tf.backend_util.Conv2DInfo;

/** The addon's conv shape arguments: sizes, strides, dilations, top/left padding. */
export function shapeArgs(info: ConvInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

const allFloat = (...ts: (tf.TensorInfo | undefined)[]) =>
  ts.every((t) => t === undefined || t.dtype === 'float32');

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dilations?: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  },
): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * Conv2D / FusedConv2D forward on the native addon (im2col + OpenBLAS sgemm, bias and relu/relu6
 * fused), for NHWC float32. Other activations, PReLU weights, NCHW or no addon: the shipped kernel.
 */
export function nativeConvForward(shipped: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    const act = ACTIVATIONS[a.activation ?? 'linear'];
    const blas = nativeBlas(backend as BackendWasm);
    const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC');
    if (
      !blas ||
      act === undefined ||
      preluActivationWeights ||
      format !== 'channelsLast' ||
      !allFloat(x, filter, bias) ||
      (bias && bias.shape.reduce((p, d) => p * d, 1) !== filter!.shape[3])
    ) {
      return shipped(args);
    }
    const info = convInfo(x!.shape, filter!.shape, a);
    const be = backend as BackendWasm;
    const out = be.makeOutput(info.outShape, 'float32');
    if (info.outShape.some((d) => d === 0) || x!.shape.some((d) => d === 0)) return out;
    const pb = bias ? heapOffset(be, bias) : -1;
    blas.conv(
      wasmHeap(be),
      0,
      heapOffset(be, x!),
      heapOffset(be, filter!),
      heapOffset(be, out),
      pb,
      act,
      shapeArgs(info),
    );
    return out;
  };
}

/**
 * One gradient on the native addon into a new tensor of `outShape`: mode 1 the filter's (from x and
 * dy), mode 2 the input's (from dy and the filter). Null when it does not apply (the caller's path
 * then). `known` is the other operand (x or the filter); an empty operand gives zeros.
 */
function nativeConvGrad(
  backend: BackendWasm,
  mode: 1 | 2,
  dy: tf.TensorInfo,
  known: tf.TensorInfo,
  xShape: number[],
  filterShape: number[],
  attrs: Parameters<typeof convInfo>[2],
): tf.TensorInfo | null {
  const blas = nativeBlas(backend);
  if (!blas || !allFloat(dy, known)) return null;
  const info = convInfo(xShape, filterShape, { ...attrs, dilations: 1 });
  const out = backend.makeOutput(mode === 1 ? filterShape : xShape, 'float32');
  if ([dy, known].some((t) => t.shape.some((d) => d === 0))) {
    (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const [x, w] = mode === 1 ? [known, out] : [out, known];
  const offset = (t: tf.TensorInfo) => heapOffset(backend, t);
  blas.conv(wasmHeap(backend), mode, offset(x), offset(w), offset(dy), -1, 0, shapeArgs(info));
  return out;
}

/** Filter gradient on the native addon, or null when it does not apply. */
export function nativeConvFilterGrad(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: tf.Conv2DBackpropFilterAttrs,
): tf.TensorInfo | null {
  return nativeConvGrad(backend, 1, dy, x, x.shape, attrs.filterShape, attrs);
}

/** Input gradient on the native addon, or null when it does not apply. */
export function nativeConvInputGrad(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: tf.Conv2DBackpropInputAttrs,
): tf.TensorInfo | null {
  return nativeConvGrad(backend, 2, dy, filter, attrs.inputShape, filter.shape, attrs);
}
