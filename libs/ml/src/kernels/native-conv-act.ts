import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CLIP_GRAD_KERNEL } from './clip-grad';
import { patchLayerCall, singleInput } from './layer-patch';
import { nativeBlas, wasmHeap } from './native-blas';
import { shapeArgs } from './native-conv';
import { heapOffset } from './simd';

/**
 * A convolution layer's conv + bias + ReLU as one kernel with its own gradient, for training.
 *
 * tfjs fuses bias and activation into the convolution only outside gradient recording: while a
 * step's gradients are taken, `fused.conv2d` runs Conv2D, then a broadcasting Add of the bias, then
 * Relu, and back Step and Multiply for the ReLU and a Sum for the bias: four passes over every
 * activation on wasm, ~5% of a small-CNN training step's thread time. Here the forward pass is the native
 * convolution with bias and ReLU in its epilogue, and the gradient one masked pass (dy where y > 0,
 * ModelsmithClipByValueGrad), then the native filter and input gradients and a column sum for the
 * bias, each computed only when backpropagation asks for it. Same values as tfjs's path (float
 * summation order aside): relu'(pre) = 1 exactly where y = relu(pre) > 0.
 */
export const CONV_ACT_KERNEL = 'ModelsmithConv2DBiasAct';

export interface ConvActAttrs {
  strides: [number, number];
  pad: 'same' | 'valid';
  /** 'relu' or 'linear'. */
  activation: string;
  /** Whether the inputs include a bias. */
  hasBias: boolean;
}

/** The smallest positive float32: `y >= JUST_ABOVE_ZERO` holds exactly when y > 0. */
const JUST_ABOVE_ZERO = 2 ** -149;

function info(xShape: number[], filterShape: number[], a: ConvActAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    1,
    a.pad,
    undefined,
    false,
    'channelsLast',
  );
}

const convActWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as BackendWasm;
  const blas = nativeBlas(be);
  if (!blas) throw new Error(`${CONV_ACT_KERNEL} needs the native addon (libs/ml/native)`);
  const { x, filter, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
  const a = attrs as unknown as ConvActAttrs;
  const ci = info(x!.shape, filter!.shape, a);
  const out = be.makeOutput(ci.outShape, 'float32');
  if (ci.outShape.some((d) => d === 0)) return out;
  const pb = a.hasBias && bias ? heapOffset(be, bias) : -1;
  const act = a.activation === 'relu' ? 1 : 0;
  blas.conv(
    wasmHeap(be),
    0,
    heapOffset(be, x!),
    heapOffset(be, filter!),
    heapOffset(be, out),
    pb,
    act,
    shapeArgs(ci),
  );
  return out;
};

/** relu(conv(x, filter) + bias) (or without relu / bias) through CONV_ACT_KERNEL; see canConvAct. */
export function convBiasAct(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  strides: [number, number],
  pad: 'same' | 'valid',
  activation: 'relu' | 'linear',
): tf.Tensor4D {
  const inputs = (bias ? { x, filter, bias } : { x, filter }) as unknown as tf.NamedTensorMap;
  const attrs: ConvActAttrs = { strides, pad, activation, hasBias: bias !== null };
  return tf.engine().runKernel<tf.Tensor4D>(CONV_ACT_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap);
}

/** Whether convBiasAct serves a conv here: wasm backend with the addon and our kernels, float32. */
export function canConvAct(...ts: Array<tf.Tensor | null>): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    ts.every((t) => t === null || t.dtype === 'float32') &&
    tf.getKernel(CONV_ACT_KERNEL, 'wasm') !== undefined &&
    tf.getKernel(CLIP_GRAD_KERNEL, 'wasm') !== undefined &&
    nativeBlas(tf.backend() as BackendWasm) !== null
  );
}

interface ConvLayer {
  rank: number;
  dataFormat: string;
  padding: string;
  strides: number[];
  dilationRate: number | number[];
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  activation: { getClassName(): string } | null;
}

const PATCHED = Symbol.for('modelsmith.convBiasAct');

/**
 * Registers the kernel and its gradient, and routes tfjs-layers' Conv2D layer through it where it
 * applies (2-D, channels last, 'same' or 'valid' padding, no dilation, ReLU or linear activation with a
 * bias; wasm with the addon): the layer's own code elsewhere. Idempotent; needs CLIP_GRAD_KERNEL.
 */
export function registerConvBiasAct(): void {
  if (!tf.getKernel(CONV_ACT_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: CONV_ACT_KERNEL, backendName: 'wasm', kernelFunc: convActWasm });
  if (!tf.getGradient(CONV_ACT_KERNEL)) {
    tf.registerGradient({
      kernelName: CONV_ACT_KERNEL,
      inputsToSave: ['x', 'filter'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter, y] = saved;
        const a = attrs as unknown as ConvActAttrs;
        const g = dy as tf.Tensor;
        // dy where the ReLU passed its input (y > 0): needed by every input's gradient.
        const masked =
          a.activation === 'relu'
            ? tf
                .engine()
                .runKernel<tf.Tensor>(
                  CLIP_GRAD_KERNEL,
                  { dy: g, x: y },
                  { clipValueMin: JUST_ABOVE_ZERO, clipValueMax: Infinity },
                )
            : g;
        const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC' };
        return {
          x: () =>
            tf.engine().runKernel<tf.Tensor>(
              'Conv2DBackpropInput',
              { dy: masked, filter },
              {
                ...common,
                inputShape: x.shape,
              },
            ),
          filter: () =>
            tf.engine().runKernel<tf.Tensor>(
              'Conv2DBackpropFilter',
              { x, dy: masked },
              {
                ...common,
                filterShape: filter.shape,
              },
            ),
          bias: () => tf.sum(masked, [0, 1, 2]),
        };
      },
    });
  }
  patchLayerCall<ConvLayer>(
    'Conv2D',
    PATCHED,
    (original) =>
      function (inputs, kwargs) {
        const x = singleInput(inputs);
        const act = this.activation?.getClassName();
        const activation = act === 'relu' ? 'relu' : act === 'linear' ? 'linear' : undefined;
        const dilations = Array.isArray(this.dilationRate) ? this.dilationRate : [this.dilationRate];
        const kernel = this.kernel.read();
        const bias = this.bias ? this.bias.read() : null;
        if (
          !x ||
          x.rank !== 4 ||
          this.rank !== 2 ||
          this.dataFormat !== 'channelsLast' ||
          (this.padding !== 'same' && this.padding !== 'valid') ||
          dilations.some((d) => d !== 1) ||
          activation === undefined ||
          (activation === 'linear' && !bias) ||
          !canConvAct(x, kernel, bias)
        )
          return original.call(this, inputs, kwargs);
        return convBiasAct(
          x as tf.Tensor4D,
          kernel as tf.Tensor4D,
          bias as tf.Tensor1D | null,
          [this.strides[0], this.strides[1] ?? this.strides[0]],
          this.padding,
          activation,
        );
      },
  );
}
