import * as tf from '@tensorflow/tfjs';
import { CLIP_GRAD_KERNEL } from './clip-grad';
import { patchLayerCall, singleInput } from './layer-patch';

/**
 * The smallest positive float32 (a denormal; WebAssembly does not flush them): `x >= JUST_ABOVE_ZERO`
 * holds exactly when x > 0, -0 and 0 excluded.
 */
const JUST_ABOVE_ZERO = 2 ** -149;

/**
 * min(max(x, 0), maxValue) in one pass forward and one backward. tfjs-layers' ReLU with `maxValue`
 * (MobileNetV2's ReLU6) runs relu, then clipByValue, and its gradient clipByValue's mask, then relu's
 * (Step, Multiply): four passes over the activation where two do. The gradient is the same: dy where
 * 0 < x <= maxValue (relu's step is 0 at x = 0), else 0, computed by CLIP_GRAD_KERNEL with the lower
 * bound just above zero. Wasm backend only (that kernel's home).
 */
export function clippedRelu(x: tf.Tensor, maxValue: number): tf.Tensor {
  return tf.customGrad((input, save) => {
    const saved = input as tf.Tensor;
    (save as tf.GradSaveFunc)([saved]);
    return {
      value: tf.clipByValue(saved, 0, maxValue),
      gradFunc: (dy, [kept]) =>
        tf
          .engine()
          .runKernel<tf.Tensor>(
            CLIP_GRAD_KERNEL,
            { dy, x: kept },
            { clipValueMin: JUST_ABOVE_ZERO, clipValueMax: maxValue },
          ),
    };
  })(x);
}

/** Whether clippedRelu serves a ReLU layer's call here: wasm backend, float32 input, maxValue > 0. */
export function canClipRelu(x: tf.Tensor, maxValue: number | null | undefined): maxValue is number {
  return (
    maxValue != null &&
    maxValue > 0 &&
    x.dtype === 'float32' &&
    tf.getBackend() === 'wasm' &&
    tf.getKernel(CLIP_GRAD_KERNEL, 'wasm') !== undefined
  );
}

const PATCHED = Symbol.for('modelsmith.clippedRelu');

/**
 * Routes tfjs-layers' ReLU layer with a `maxValue` through clippedRelu where it can run (training and
 * inference); other backends, dtypes and plain ReLU keep the layer's own code. Idempotent; needs
 * CLIP_GRAD_KERNEL registered (registerClipByValueGradient).
 */
export function registerClippedRelu(): void {
  patchLayerCall<{ maxValue?: number | null }>(
    'ReLU',
    PATCHED,
    (original) =>
      function (inputs, kwargs) {
        const x = singleInput(inputs);
        if (!x || !canClipRelu(x, this.maxValue)) return original.call(this, inputs, kwargs);
        return clippedRelu(x, this.maxValue);
      },
  );
}
