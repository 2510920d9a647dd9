import type { OptimizerSpec } from './protocol';

/**
 * An optimizer over one contiguous range of a model's parameters, as plain Float32Arrays: what lets a
 * data-parallel group split the update of even a single large tensor between replicas (tfjs's
 * optimizers update whole variables only). Each keeps its own state for its range and follows the
 * arithmetic of the tfjs optimizer of the same spec (`tf.train.sgd`, `momentum`, `adam`, `rmsprop`,
 * with tfjs's defaults; tested against them), in float32.
 */
export interface FlatOptimizer {
  learningRate: number;
  /** One step: `params[i]` moves by the update for gradient `grads[i]`; both as long as the range. */
  update(params: Float32Array, grads: Float32Array): void;
}

/** tfjs's default epsilon for float32 backends (`backend.epsilon()`), used where a spec leaves it out. */
const FLOAT32_EPSILON = 1e-7;

export function flatOptimizer(spec: OptimizerSpec, length: number): FlatOptimizer {
  switch (spec.name) {
    case 'sgd':
      return {
        learningRate: spec.learningRate,
        update(params, grads) {
          const lr = this.learningRate;
          for (let i = 0; i < params.length; i++) params[i] -= lr * grads[i];
        },
      };
    case 'momentum': {
      const accumulation = new Float32Array(length);
      const { momentum } = spec;
      const nesterov = spec.useNesterov === true;
      return {
        learningRate: spec.learningRate,
        update(params, grads) {
          const lr = this.learningRate;
          for (let i = 0; i < params.length; i++) {
            const acc = (accumulation[i] = momentum * accumulation[i] + grads[i]);
            params[i] -= nesterov ? lr * (grads[i] + acc * momentum) : lr * acc;
          }
        },
      };
    }
    case 'adam': {
      const beta1 = spec.beta1 ?? 0.9;
      const beta2 = spec.beta2 ?? 0.999;
      const epsilon = spec.epsilon ?? FLOAT32_EPSILON;
      const first = new Float32Array(length);
      const second = new Float32Array(length);
      // beta^t for the step being taken (tfjs starts its accumulators at beta and multiplies after each step).
      let accBeta1 = beta1;
      let accBeta2 = beta2;
      return {
        learningRate: spec.learningRate,
        update(params, grads) {
          const lr = this.learningRate;
          const correction1 = 1 - accBeta1;
          const correction2 = 1 - accBeta2;
          for (let i = 0; i < params.length; i++) {
            const g = grads[i];
            const m = (first[i] = beta1 * first[i] + (1 - beta1) * g);
            const v = (second[i] = beta2 * second[i] + (1 - beta2) * g * g);
            params[i] -= (lr * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon);
          }
          accBeta1 *= beta1;
          accBeta2 *= beta2;
        },
      };
    }
    case 'rmsprop': {
      const decay = spec.decay ?? 0.9;
      const momentum = spec.momentum ?? 0;
      const epsilon = spec.epsilon ?? FLOAT32_EPSILON;
      const meanSquare = new Float32Array(length);
      const moments = new Float32Array(length);
      return {
        learningRate: spec.learningRate,
        update(params, grads) {
          const lr = this.learningRate;
          for (let i = 0; i < params.length; i++) {
            const g = grads[i];
            const ms = (meanSquare[i] = decay * meanSquare[i] + (1 - decay) * g * g);
            const mom = (moments[i] = momentum * moments[i] + (lr * g) / Math.sqrt(ms + epsilon));
            params[i] -= mom;
          }
        },
      };
    }
  }
}
