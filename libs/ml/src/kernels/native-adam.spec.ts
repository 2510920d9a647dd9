import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { Optimizer, type OptimizerConfig } from '../train/optimizers';
import { canFuseAdam } from './native-adam';
import { useNativeBlas } from './native-blas';
import { NO_OPENBLAS, openBlasPresent, prng, randInt, randValues, useBackend } from './test-utils';
import { itIf } from '../../../../test/support/skip';

/**
 * Runs `steps` Adam steps on parameters of the given sizes from the same values on `backend`
 * (wasm: the fused kernel where the addon is; cpu: the optimizer's tensor ops) and returns the
 * parameters and both moments after them.
 */
function run(
  backend: 'cpu' | 'wasm',
  config: OptimizerConfig,
  sizes: number[],
  seed: number,
  steps: number,
): Float32Array[] {
  useBackend(backend);
  const rand = prng(seed);
  const vars = sizes.map((n) => tf.tidy(() => tf.variable(tf.tensor1d(randValues(rand, [n])))));
  const opt = new Optimizer(config);
  for (let s = 0; s < steps; s++) {
    const grads = sizes.map((n) => tf.tensor1d(randValues(rand, [n]).map((x) => x * 3)));
    const params = vars.map((variable, key) => ({
      key,
      variable,
      lr: 0.01 * (key + 1) * (s + 1),
      weightDecay: key % 2 === 0 ? 0.05 : 0,
    }));
    opt.apply(params, grads);
    tf.dispose(grads);
  }
  const state = opt.getState();
  const out = [
    ...vars.map((v) => v.dataSync<'float32'>().slice()),
    ...state.params.flatMap((p) => [p.slots.m, p.slots.v].map((t) => t.dataSync<'float32'>().slice())),
  ];
  state.params.forEach((p) => tf.dispose(Object.values(p.slots)));
  opt.dispose();
  tf.dispose(vars);
  return out;
}

const worstRelative = (a: Float32Array[], b: Float32Array[]) => {
  let worst = 0;
  a.forEach((x, k) =>
    x.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - b[k][i]) / Math.max(1e-3, Math.abs(b[k][i])));
    }),
  );
  return worst;
};

describe('fused Adam step (native addon on the wasm backend)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterEach(() => useNativeBlas(true));

  itIf(openBlasPresent, NO_OPENBLAS)('runs where the addon is loaded, not without it', () => {
    useBackend('wasm');
    const t = tf.zeros([3]);
    expect(canFuseAdam(t)).toBe(true);
    useNativeBlas(false);
    expect(canFuseAdam(t)).toBe(false);
    useBackend('cpu');
    useNativeBlas(true);
    expect(canFuseAdam(t)).toBe(false);
    t.dispose();
  });

  it(`gives the tensor ops' parameters and moments (cpu backend) over random sizes, decays and steps${openBlasPresent ? '' : ` (${NO_OPENBLAS}: both sides the ops)`}`, () => {
    const rand = prng(21);
    for (let trial = 0; trial < 12; trial++) {
      const type = trial % 2 === 0 ? 'adam' : 'adamw';
      const config: OptimizerConfig = {
        type,
        beta1: 0.8 + 0.19 * rand(),
        beta2: 0.9 + 0.099 * rand(),
        epsilon: 10 ** -randInt(rand, 3, 8),
      };
      const sizes = Array.from({ length: randInt(rand, 1, 4) }, () => randInt(rand, 1, 3000));
      const steps = randInt(rand, 1, 5);
      useBackend('wasm');
      const before = tf.memory().numTensors;
      const fused = run('wasm', config, sizes, trial, steps);
      expect(tf.memory().numTensors).toBe(before);
      const ops = run('cpu', config, sizes, trial, steps);
      const ctx = JSON.stringify({ trial, type, sizes, steps });
      const w = worstRelative(fused, ops);
      expect({ ctx, w, close: w < 1e-4 }).toEqual({ ctx, w, close: true });
    }
  });
});
