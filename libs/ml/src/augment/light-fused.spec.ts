import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { prng, randInt, useBackend } from '../kernels/test-utils';
import { mixSeed, Rng } from '../train/rng';
import { imageAugmenter } from './augmenter';
import { lightAugmentFused } from './light-fused';
import { colorJitter, randomHorizontalFlip, randomResizedCrop } from './ops';

/** The 'light' policy as the tensor ops compute it (the reference the fused passes must match). */
function lightByOps(x: tf.Tensor4D, scale: number[], offset: number[], rng: Rng): Float32Array {
  return tf.tidy(() => {
    const sc = tf.tensor1d(scale);
    const of = tf.tensor1d(offset);
    let u = tf.clipByValue(tf.add(tf.mul(x, sc), of), 0, 1) as tf.Tensor4D;
    u = randomHorizontalFlip(u, rng);
    u = randomResizedCrop(u, rng, { scale: [0.6, 1] });
    u = colorJitter(u, rng, { brightness: 0.2, contrast: 0.2, saturation: 0.2 });
    return tf.div(tf.sub(u, of), sc).dataSync<'float32'>();
  });
}

describe('light augmentation in fused passes', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals the tensor ops (${backend} backend) on random batches, sizes and normalizations, with the same draws`, () => {
      useBackend(backend);
      const rand = prng(11);
      for (let trial = 0; trial < 25; trial++) {
        const c = rand() < 0.7 ? 3 : 1;
        const shape: [number, number, number, number] = [
          randInt(rand, 1, 5),
          randInt(rand, 1, 20),
          randInt(rand, 1, 20),
          c,
        ];
        const scale = Array.from({ length: c }, () => 0.2 + rand());
        const offset = Array.from({ length: c }, () => rand() - 0.5);
        // Values past [0, 1] after the unit map too (clipped first).
        const size = shape.reduce((a, b) => a * b, 1);
        const values = Float32Array.from({ length: size }, () => rand() * 3 - 1.5);
        const x = tf.tensor4d(values, shape);
        const seed = mixSeed(trial, 5);
        const want = lightByOps(x, scale, offset, new Rng(seed));
        const rng = new Rng(seed);
        const got = lightAugmentFused(values, shape, scale, offset, rng);
        let worst = 0;
        for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        const ctx = JSON.stringify({ trial, shape });
        expect({ ctx, close: worst < 1e-4 }).toEqual({ ctx, close: true });
        // The generator ends where the ops leave it (the mixes draw next).
        const after = new Rng(seed);
        lightByOps(x, scale, offset, after);
        expect(rng.next()).toBe(after.next());
        x.dispose();
      }
    });
  }

  it('is what imageAugmenter(light) returns, with no tensor left behind', () => {
    useBackend('wasm');
    const norm = { kind: 'meanStd' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const aug = imageAugmenter('light', norm)!;
    const x = tf.randomUniform<tf.Rank.R4>([3, 9, 7, 3], -2, 2, 'float32', 1);
    const before = tf.memory().numTensors;
    const y = aug(x, { seed: 4, epoch: 2, step: 6 }) as tf.Tensor;
    expect(tf.memory().numTensors).toBe(before + 1);
    const rng = new Rng(mixSeed(4, 2, 6, 0x617567));
    const want = lightByOps(x, norm.std, norm.mean, rng);
    const got = y.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, y]);
  });
});
