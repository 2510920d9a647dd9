import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasm } from './conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropFilterWasm } from './depthwise-backprop-filter';
import { depthwiseConv2dNativeBackpropInputWasm } from './depthwise-backprop-input';
import { conv2DBackpropInputWasm } from './conv2d-backprop-input';
import { untransposedMatMul } from './mat-mul';
import { nativeConvForward } from './native-conv';
import { maxPoolGradWasm, nativeMaxPool } from './max-pool-grad';
import { broadcastingTile } from './tile';
import { HEAP_KERNEL_WRAPPERS } from './heap-kernels';
import { CLIP_GRAD_KERNEL, registerClipByValueGradient } from './clip-grad';
import { BN_GRAD_SUMS_KERNEL, registerBatchNormGradient } from './batch-norm-grad';
import { REPEAT_ROWS_KERNEL, registerMeanGradient } from './mean-grad';
import { BN_TRAIN_GRAD_KERNEL, BN_TRAIN_KERNEL, registerFusedBatchNorm } from './native-batch-norm';
import { ADAM_KERNEL, registerFusedAdam } from './native-adam';
import { CONV_ACT_KERNEL, registerConvBiasAct } from './native-conv-act';
import { registerClippedRelu } from './relu-max';
import { explicitSamePadding } from './same-padding';

/** Training kernels the wasm backend of tfjs 4.22 lacks, keyed by kernel name. */
export const WASM_TRAINING_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWasm,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilterWasm,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInputWasm,
};

/** Kernels tfjs-backend-wasm 4.22 has but gets wrong (or slow); ours replace them. */
export const WASM_REPLACED_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  MaxPoolGrad: maxPoolGradWasm,
  Conv2DBackpropInput: conv2DBackpropInputWasm,
};

/** Kernel functions of ours that wrap a shipped kernel (so a second registration does not wrap twice). */
const wrapped = new WeakSet<tf.KernelFunc>();

/**
 * Registers our training kernels for the `wasm` backend: the missing ones (unless a future tfjs
 * release brings its own), the replacements, and the matmul wrappers. Idempotent. Returns the names
 * of all kernels of ours that are registered.
 */
export function registerWasmTrainingKernels(): string[] {
  const ours: string[] = [];
  registerClipByValueGradient();
  registerBatchNormGradient();
  registerMeanGradient();
  registerFusedBatchNorm();
  registerClippedRelu();
  registerFusedAdam();
  registerConvBiasAct();
  ours.push(
    CLIP_GRAD_KERNEL,
    BN_GRAD_SUMS_KERNEL,
    REPEAT_ROWS_KERNEL,
    BN_TRAIN_KERNEL,
    BN_TRAIN_GRAD_KERNEL,
    ADAM_KERNEL,
    CONV_ACT_KERNEL,
  );
  for (const [kernelName, kernelFunc] of Object.entries(WASM_TRAINING_KERNELS)) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (!existing) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    if (!existing || existing.kernelFunc === kernelFunc) ours.push(kernelName);
  }
  const wrappers: Record<string, (shipped: tf.KernelFunc) => tf.KernelFunc> = {
    BatchMatMul: untransposedMatMul,
    _FusedMatMul: untransposedMatMul,
    Tile: broadcastingTile,
    MaxPool: nativeMaxPool,
    Conv2D: (shipped) => nativeConvForward(explicitSamePadding(shipped, false)),
    FusedConv2D: (shipped) => nativeConvForward(explicitSamePadding(shipped, false)),
    DepthwiseConv2dNative: (shipped) => explicitSamePadding(shipped, true),
    FusedDepthwiseConv2D: (shipped) => explicitSamePadding(shipped, true),
    ...HEAP_KERNEL_WRAPPERS,
  };
  for (const [kernelName, wrap] of Object.entries(wrappers)) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (!existing) continue;
    if (!wrapped.has(existing.kernelFunc)) {
      const kernelFunc = wrap(existing.kernelFunc);
      wrapped.add(kernelFunc);
      tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel({ ...existing, kernelFunc });
    }
    ours.push(kernelName);
  }
  for (const [kernelName, kernelFunc] of Object.entries(WASM_REPLACED_KERNELS)) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (existing?.kernelFunc !== kernelFunc) {
      if (existing) tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    }
    ours.push(kernelName);
  }
  return ours;
}
