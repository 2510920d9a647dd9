import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { flatOptimizer } from './flat-optimizer';
import type { OptimizerSpec } from './protocol';
import { setLearningRate, tfjsOptimizer } from './test-optimizers';

function seeded(length: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

describe('flatOptimizer', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it.each<[string, OptimizerSpec]>([
    ['sgd', { name: 'sgd', learningRate: 0.1 }],
    ['momentum', { name: 'momentum', learningRate: 0.05, momentum: 0.9 }],
    ['momentum (Nesterov)', { name: 'momentum', learningRate: 0.05, momentum: 0.8, useNesterov: true }],
    ['adam (defaults)', { name: 'adam', learningRate: 0.01 }],
    ['adam', { name: 'adam', learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-4 }],
    ['rmsprop (defaults)', { name: 'rmsprop', learningRate: 0.01 }],
    [
      'rmsprop with momentum',
      { name: 'rmsprop', learningRate: 0.01, decay: 0.8, momentum: 0.5, epsilon: 1e-6 },
    ],
  ])('%s follows the tfjs optimizer step for step, across a learning-rate change', (_name, spec) => {
    const n = 257;
    const start = seeded(n, 1, 1);
    const variable = tf.variable(tf.tensor1d(start), true, 'flat_opt_v');
    const reference = tfjsOptimizer(spec);
    const flat = flatOptimizer(spec, n);
    const params = start.slice();
    try {
      for (let step = 0; step < 6; step++) {
        if (step === 3) {
          flat.learningRate = spec.learningRate / 3;
          setLearningRate(reference, spec.learningRate / 3);
        }
        // Gradients of all sizes, zeros included.
        const grads = seeded(n, 100 + step, step % 2 === 0 ? 1 : 1e-3);
        grads[7] = 0;
        tf.tidy(() => reference.applyGradients({ [variable.name]: tf.tensor1d(grads) }));
        flat.update(params, grads);
        const want = variable.dataSync();
        let worst = 0;
        for (let i = 0; i < n; i++)
          worst = Math.max(
            worst,
            Math.abs(params[i] - want[i]) / Math.max(1e-3, Math.abs(want[i] - start[i])),
          );
        // Relative to how far the parameter has moved: float32 rounding, not a different rule.
        expect(worst).toBeLessThan(1e-3);
      }
      expect(Math.max(...params.map((p, i) => Math.abs(p - start[i])))).toBeGreaterThan(1e-3);
    } finally {
      reference.dispose();
      variable.dispose();
    }
  });
});
