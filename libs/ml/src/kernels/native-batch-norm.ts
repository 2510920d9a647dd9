import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeBlas, wasmHeap } from './native-blas';
import { heapOffset } from './simd';
import { patchLayerCall, singleInput } from './layer-patch';

/**
 * Training-mode batch normalization as one kernel pair on the native addon.
 *
 * tfjs-layers' BatchNormalization in training runs `moments` (Mean, Sub, Square, Mean), then
 * FusedBatchNorm, and its gradient goes through all of them and through the moments again (Sub,
 * Multiply, Mean gradients, Adds into dx): ~15 passes over the activation per layer, which in
 * MobileNetV2 fine-tuning (52 such layers on 8x112x112x96-sized tensors) was the largest share of a
 * step. Here the forward pass is two passes (statistics, normalize) and the gradient two (sums, dx),
 * in C over the wasm heap in place.
 */
export const BN_TRAIN_KERNEL = 'ModelsmithBatchNormTrain';
export const BN_TRAIN_GRAD_KERNEL = 'ModelsmithBatchNormTrainGrad';

interface BnAttrs {
  epsilon: number;
}

/**
 * Runs the addon's batchNorm in `mode` on the named inputs; both modes write one tensor shaped like x
 * and two per-channel vectors ([y, mean, variance] / [dx, dgamma, dbeta]).
 */
function nativeBatchNorm(mode: 0 | 1, operands: readonly string[]): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as BackendWasm;
    const blas = nativeBlas(be);
    if (!blas) throw new Error(`${BN_TRAIN_KERNEL} needs the native addon (libs/ml/native)`);
    const ins = inputs as Record<string, tf.TensorInfo>;
    const { x } = ins;
    const c = x.shape[x.shape.length - 1];
    const outs = [
      be.makeOutput(x.shape, 'float32'),
      be.makeOutput([c], 'float32'),
      be.makeOutput([c], 'float32'),
    ];
    const offsets = [...operands.map((name) => ins[name]), ...outs].map((t) => heapOffset(be, t));
    const { epsilon } = attrs as unknown as BnAttrs;
    blas.batchNorm(wasmHeap(be), mode, offsets, tf.util.sizeFromShape(x.shape) / c, c, epsilon);
    return outs;
  };
}

/** Inputs x [..., C], gamma [C], beta [C]; outputs [y, mean, variance] (biased variance). */
const batchNormTrainWasm = nativeBatchNorm(0, ['x', 'gamma', 'beta']);

/** Inputs x, gamma, mean, variance, dy, dmean, dvariance; outputs [dx, dgamma, dbeta]. */
const batchNormTrainGradWasm = nativeBatchNorm(1, [
  'x',
  'gamma',
  'mean',
  'variance',
  'dy',
  'dmean',
  'dvariance',
]);

/**
 * y, mean, variance of training-mode batch normalization over every axis but the last, with its
 * gradient (through the batch statistics too). The wasm backend with the native addon only: callers
 * check `canFuseBatchNorm` first.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const inputs = { x, gamma, beta } as unknown as tf.NamedTensorMap;
  const attrs = { epsilon } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(BN_TRAIN_KERNEL, inputs, attrs) as unknown as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
}

/** Whether `batchNormTrain` can run for these operands on the active backend. */
export function canFuseBatchNorm(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null): boolean {
  if (tf.getBackend() !== 'wasm' || !gamma || !beta) return false;
  const c = x.shape[x.rank - 1];
  const vector = (t: tf.Tensor) => t.dtype === 'float32' && t.rank === 1 && t.shape[0] === c;
  if (x.dtype !== 'float32' || x.rank < 2 || x.size === 0 || !vector(gamma) || !vector(beta)) return false;
  return nativeBlas(tf.backend() as BackendWasm) !== null;
}

interface BatchNormLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma?: { read(): tf.Tensor };
  beta?: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(t: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
}

const PATCHED = Symbol.for('modelsmith.fusedBatchNorm');

/**
 * Routes tfjs-layers' BatchNormalization in training mode (last axis, with scale and center) through
 * `batchNormTrain` where it can run; everything else (inference, other axes, other backends, no
 * addon) keeps the layer's own code. The moving statistics update exactly as the layer does it.
 * Idempotent.
 */
export function registerFusedBatchNorm(): void {
  for (const [kernelName, kernelFunc] of [
    [BN_TRAIN_KERNEL, batchNormTrainWasm],
    [BN_TRAIN_GRAD_KERNEL, batchNormTrainGradWasm],
  ] as const) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  if (!tf.getGradient(BN_TRAIN_KERNEL)) {
    tf.registerGradient({
      kernelName: BN_TRAIN_KERNEL,
      inputsToSave: ['x', 'gamma'],
      outputsToSave: [false, true, true],
      gradFunc: (dys, saved, attrs) => {
        const [dy, dmean, dvariance] = dys as tf.Tensor[];
        const [x, gamma, mean, variance] = saved;
        const inputs = { x, gamma, mean, variance, dy, dmean, dvariance } as unknown as tf.NamedTensorMap;
        const [dx, dgamma, dbeta] = tf.engine().runKernel<tf.Tensor[]>(BN_TRAIN_GRAD_KERNEL, inputs, attrs);
        return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
      },
    });
  }
  patchLayerCall<BatchNormLayer>(
    'BatchNormalization',
    PATCHED,
    (original) =>
      function (inputs, kwargs) {
        const x = singleInput(inputs);
        const gamma = this.gamma?.read() ?? null;
        const beta = this.beta?.read() ?? null;
        const lastAxis = x !== undefined && (this.axis === -1 || this.axis === x.rank - 1);
        if (!kwargs?.training || !x || !lastAxis || !canFuseBatchNorm(x, gamma, beta)) {
          return original.call(this, inputs, kwargs);
        }
        return tf.tidy(() => {
          const [y, mean, variance] = batchNormTrain(x, gamma!, beta!, this.epsilon);
          for (const [variable, value] of [
            [this.movingMean, mean],
            [this.movingVariance, variance],
          ] as const) {
            tf.tidy(() => {
              const current = variable.read();
              variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - this.momentum)));
            });
          }
          return y;
        });
      },
  );
}
