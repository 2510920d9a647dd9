import * as tf from '@tensorflow/tfjs';
import { arrayBatches, MemoryCheckpointStore, train, type AugmentContext, type TrainBatch } from '../train';
import { mixSeed, Rng } from '../train/rng';
import { tinyMlp, weightValues } from '../train/test-helpers';
import { imageAugmenter } from './augmenter';
import { colorJitter, randomHorizontalFlip, randomResizedCrop } from './ops';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A batch of distinct pixel values in [0, 1]. */
function ramp(n: number, h: number, w: number, c: number): tf.Tensor4D {
  const size = n * h * w * c;
  return tf.tensor4d(
    Array.from({ length: size }, (_, i) => ((i * 7919) % size) / size),
    [n, h, w, c],
  );
}

describe('augmentation ops', () => {
  it('a flip with probability 1 reverses the columns of every sample; probability 0 leaves them', () => {
    const x = ramp(2, 3, 4, 3);
    const flipped = randomHorizontalFlip(x, new Rng(1), 1);
    const a = x.arraySync();
    const f = flipped.arraySync();
    for (let n = 0; n < 2; n++)
      for (let r = 0; r < 3; r++)
        for (let col = 0; col < 4; col++) expect(f[n][r][col]).toEqual(a[n][r][3 - col]);
    expect(randomHorizontalFlip(x, new Rng(1), 0).arraySync()).toEqual(a);
    tf.dispose([x, flipped]);
  });

  it('a flip with probability 0.5 flips some samples and not others', () => {
    const x = ramp(32, 2, 3, 1);
    const y = tf.tidy(() => randomHorizontalFlip(x, new Rng(5)));
    const a = x.arraySync();
    const b = y.arraySync();
    const same = a.filter((s, i) => JSON.stringify(s) === JSON.stringify(b[i])).length;
    expect(same).toBeGreaterThan(4);
    expect(same).toBeLessThan(28);
    tf.dispose([x, y]);
  });

  it('a resized crop keeps the input shape; the full-image crop is the identity', () => {
    const x = ramp(3, 8, 6, 3);
    const y = tf.tidy(() => randomResizedCrop(x, new Rng(2), { scale: [0.3, 0.5] }));
    expect(y.shape).toEqual([3, 8, 6, 3]);
    const changed = tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]);
    expect(changed).toBeGreaterThan(0.01);
    const id = tf.tidy(() => randomResizedCrop(x, new Rng(2), { scale: [1, 1], ratio: [6 / 8, 6 / 8] }));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(x, id))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, y, id]);
  });

  it('colour jitter keeps values in [0, 1] and changes them', () => {
    const x = ramp(8, 4, 4, 3);
    const y = tf.tidy(() => colorJitter(x, new Rng(3), { brightness: 0.8, contrast: 0.8, saturation: 0.8 }));
    const v = y.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    const changed = tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y))).dataSync()[0]);
    expect(changed).toBeGreaterThan(0.01);
    tf.dispose([x, y]);
  });
});

describe('imageAugmenter', () => {
  const sym = { kind: 'symmetric' } as const;
  const ctx = (step: number): AugmentContext => ({ seed: 7, epoch: 1, step });

  it("is undefined for 'none'", () => {
    expect(imageAugmenter('none', sym)).toBeUndefined();
  });

  it('is a function of (seed, epoch, step): same -> identical, other step -> different', () => {
    const aug = imageAugmenter('light', sym)!;
    const x = tf.tidy(() => tf.sub(tf.mul(ramp(4, 8, 8, 3), 2), 1));
    const a = aug(x, ctx(3));
    const b = aug(x, ctx(3));
    const c = aug(x, ctx(4));
    const d = aug(x, { seed: 8, epoch: 1, step: 3 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0])).toBeGreaterThan(1e-3);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, d))).dataSync()[0])).toBeGreaterThan(1e-3);
    tf.dispose([x, a, b, c, d]);
  });

  it('keeps the normalized range (meanStd) and the shape, and leaks no tensors', () => {
    const norm = { kind: 'meanStd' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const aug = imageAugmenter('light', norm)!;
    const unit = ramp(4, 6, 6, 3);
    const x = tf.tidy(() => tf.div(tf.sub(unit, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)));
    const before = tf.memory().numTensors;
    const y = aug(x, ctx(0));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(y.shape).toEqual(x.shape);
    const back = tf.tidy(() => tf.add(tf.mul(y, tf.tensor1d(norm.std)), tf.tensor1d(norm.mean)));
    const v = back.dataSync();
    expect(Math.min(...v)).toBeGreaterThan(-1e-5);
    expect(Math.max(...v)).toBeLessThan(1 + 1e-5);
    tf.dispose([unit, x, y, back]);
  });
});

describe('train() with an augment hook', () => {
  function data(count: number) {
    return arrayBatches({
      count,
      batchSize: 4,
      sampleShape: [6],
      shuffle: true,
      fill: (i, xs, off) => {
        for (let k = 0; k < 6; k++) xs[off + k] = ((i * 13 + k * 5) % 11) / 11;
        return i % 3;
      },
    });
  }

  it('augments training batches only, with the batch position, and leaks no tensors', async () => {
    const model = tinyMlp(1, 6, 3);
    const seen: Array<{ ctx: AugmentContext; n: number }> = [];
    const validation = data(8);
    const valBatches: TrainBatch[] = [];
    const spyValidation = Object.assign(
      (req: Parameters<typeof validation>[0]) => {
        const out: TrainBatch[] = [];
        for (const b of validation(req) as Iterable<TrainBatch>) {
          valBatches.push({ xs: b.xs.clone(), ys: b.ys.clone() });
          out.push(b);
        }
        return out;
      },
      { stepsPerEpoch: validation.stepsPerEpoch },
    );
    const before = tf.memory().numTensors;
    await train(model, {
      data: data(12),
      validation: spyValidation,
      epochs: 2,
      seed: 5,
      augment: (xs, ctx) => {
        seen.push({ ctx, n: xs.shape[0] ?? 0 });
        return tf.add(xs, 1);
      },
    });
    expect(seen.map((s) => [s.ctx.epoch, s.ctx.step])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect(seen.every((s) => s.ctx.seed === 5 && s.n === 4)).toBe(true);
    // The validation batches the trainer evaluated are the untouched source values (all < 1).
    expect(valBatches.length).toBeGreaterThan(0);
    for (const b of valBatches) expect(Math.max(...b.xs.dataSync())).toBeLessThan(1);
    tf.dispose(valBatches.flatMap((b) => [b.xs, b.ys]));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('a run cancelled mid-epoch and resumed ends with the weights of an uninterrupted augmented one', async () => {
    // Noise drawn from (seed, epoch, step) only, like imageAugmenter.
    const augment = (xs: tf.Tensor, ctx: AugmentContext) => {
      const rng = new Rng(mixSeed(ctx.seed, ctx.epoch, ctx.step));
      const noise = Array.from({ length: xs.size }, () => rng.next() - 0.5);
      return tf.add(xs, tf.tensor(noise, xs.shape));
    };
    const opts = { data: data(12), epochs: 3, seed: 3, learningRate: 0.05, augment };
    const ref = tinyMlp(1, 6, 3, { dropout: false });
    await train(ref, opts);

    const store = new MemoryCheckpointStore();
    const ac = new AbortController();
    const first = tinyMlp(1, 6, 3, { dropout: false });
    const r1 = await train(first, {
      ...opts,
      checkpoint: { store, key: 'run' },
      signal: ac.signal,
      progressEverySteps: 1,
      onProgress: (p) => {
        if (p.kind === 'step' && p.globalStep === 4) ac.abort(); // epoch 1, step 1
      },
    });
    expect(r1.status).toBe('cancelled');
    const resumed = tinyMlp(9, 6, 3, { dropout: false });
    const r2 = await train(resumed, { ...opts, checkpoint: { store, key: 'run' } });
    expect(r2.resumedFrom).toEqual({ epoch: 1, step: 1, globalStep: 4 });
    expect(weightValues(resumed)).toEqual(weightValues(ref));
    for (const m of [ref, first, resumed]) m.dispose();
  });

  it('an augment that throws leaks nothing and fails the run', async () => {
    const model = tinyMlp(1, 6, 3);
    const before = tf.memory().numTensors;
    await expect(
      train(model, {
        data: data(8),
        epochs: 1,
        augment: (xs) => {
          tf.add(xs, 1);
          throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
