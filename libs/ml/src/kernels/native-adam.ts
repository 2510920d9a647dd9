import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeBlas, wasmHeap } from './native-blas';
import { heapOffset } from './simd';

/**
 * One Adam step of a parameter as one kernel on the native addon (wasm backend): the optimizer's
 * ~13 element-wise tensor ops per parameter (train/optimizers.ts) in one pass in C. On the small CNN
 * (2.2M parameters, 98% in one dense kernel) those ops took ~13-20 ms of every step on the
 * training thread (one pass here: ~3 ms), while a replica thread waited for the new weights.
 */
export const ADAM_KERNEL = 'ModelsmithAdam';

export interface AdamStepAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 - beta2^t. */
  biasCorrection2: number;
  /** Coupled weight decay (added to the gradient as l2 * var); 0 for none. */
  l2: number;
  /** Decoupled weight decay (AdamW: var -= decay * var after the step); 0 for none. */
  decay: number;
}

const adamWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as BackendWasm;
  const blas = nativeBlas(be);
  if (!blas?.adam) throw new Error(`${ADAM_KERNEL} needs the native addon (libs/ml/native)`);
  const { variable, m, v, g } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as AdamStepAttrs;
  const outs = [0, 1, 2].map(() => be.makeOutput(variable.shape, 'float32'));
  const offsets = [variable, m, v, g, ...outs].map((t) => heapOffset(be, t));
  const constants = [
    a.beta1,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    a.biasCorrection2,
    a.epsilon,
    a.stepSize,
    a.l2,
    a.decay,
  ];
  blas.adam(wasmHeap(be), offsets, tf.util.sizeFromShape(variable.shape), constants);
  return outs;
};

/** Whether {@link fusedAdamStep} runs here: the wasm backend with the addon, float32 operands. */
export function canFuseAdam(...ts: tf.Tensor[]): boolean {
  if (tf.getBackend() !== 'wasm' || ts.some((t) => t.dtype !== 'float32')) return false;
  const blas = nativeBlas(tf.backend() as BackendWasm);
  return typeof blas?.adam === 'function' && tf.getKernel(ADAM_KERNEL, 'wasm') !== undefined;
}

/** The parameter, first and second moments after one Adam step (new tensors; check canFuseAdam). */
export function fusedAdamStep(
  variable: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  attrs: AdamStepAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const inputs = { variable, m, v, g } as unknown as tf.NamedTensorMap;
  return tf.engine().runKernel(ADAM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
}

export function registerFusedAdam(): void {
  if (!tf.getKernel(ADAM_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adamWasm });
}
