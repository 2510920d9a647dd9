import * as tf from '@tensorflow/tfjs';
import { arrayBatches, MemoryCheckpointStore, train, type AugmentContext, type TrainBatch } from '../train';
import { mixSeed, Rng, withSeededRandom } from '../train/rng';
import { tinyMlp, weightValues } from '../train/test-helpers';
import { imageAugmenter } from './augmenter';
import { betaSample, cutmix, mixup } from './mix';
import { colorJitter, randomHorizontalFlip, randomResizedCrop } from './ops';
import {
  applyTrivial,
  drawRandAugment,
  drawTrivial,
  randAugment,
  RANDAUGMENT_RANGES,
  TRIVIAL_OPS,
  type TrivialDraw,
  type TrivialOp,
} from './trivial';

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

  it('a flip gives exactly what a per-sample mask over the reversed batch gives, with the same draws', () => {
    const x = ramp(9, 5, 7, 3);
    const r1 = new Rng(11);
    const r2 = new Rng(11);
    const y = tf.tidy(() => randomHorizontalFlip(x, r1));
    const flags = Array.from({ length: 9 }, () => (r2.next() < 0.5 ? 1 : 0));
    const ref = tf.tidy(() => tf.where(tf.tensor4d(flags, [9, 1, 1, 1], 'bool'), tf.reverse(x, 2), x));
    expect(Array.from(y.dataSync())).toEqual(Array.from(ref.dataSync()));
    expect(r1.next()).toBe(r2.next());
    tf.dispose([x, y, ref]);
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

  it.each(['light', 'randaugment'] as const)(
    '%s is a function of (seed, epoch, step): same -> identical, other step -> different',
    (policy) => {
      const aug = imageAugmenter(policy, sym)!;
      const x = tf.tidy(() => tf.sub(tf.mul(ramp(4, 8, 8, 3), 2), 1));
      const a = aug(x, ctx(3)) as tf.Tensor;
      const b = aug(x, ctx(3)) as tf.Tensor;
      const c = aug(x, ctx(4)) as tf.Tensor;
      const d = aug(x, { seed: 8, epoch: 1, step: 3 }) as tf.Tensor;
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0])).toBeGreaterThan(1e-3);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, d))).dataSync()[0])).toBeGreaterThan(1e-3);
      tf.dispose([x, a, b, c, d]);
    },
  );

  it('keeps the normalized range (meanStd) and the shape, and leaks no tensors', () => {
    const norm = { kind: 'meanStd' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const aug = imageAugmenter('light', norm)!;
    const unit = ramp(4, 6, 6, 3);
    const x = tf.tidy(() => tf.div(tf.sub(unit, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)));
    const before = tf.memory().numTensors;
    const y = aug(x, ctx(0)) as tf.Tensor;
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

describe('TrivialAugment (wide)', () => {
  const draw = (op: TrivialOp, magnitude: number, sign = 1): TrivialDraw => ({ op, magnitude, sign });

  it('draws one op per sample uniformly over the set, strengths on 31 levels, reproducibly', () => {
    const a = drawTrivial(2000, new Rng(4));
    expect(drawTrivial(2000, new Rng(4))).toEqual(a);
    const counts = new Map<string, number>();
    for (const d of a) counts.set(d.op, (counts.get(d.op) ?? 0) + 1);
    expect(counts.size).toBe(TRIVIAL_OPS.length);
    for (const c of counts.values()) expect(Math.abs(c - 2000 / TRIVIAL_OPS.length)).toBeLessThan(60);
    expect(new Set(a.map((d) => d.magnitude)).size).toBe(31);
    expect(a.every((d) => d.magnitude >= 0 && d.magnitude <= 1 && Math.abs(d.sign) === 1)).toBe(true);
  });

  it('identity and zero-strength ops leave the image; every op keeps the shape and [0, 1]', () => {
    const x = ramp(TRIVIAL_OPS.length, 8, 8, 3);
    const same = tf.tidy(() =>
      applyTrivial(
        x,
        TRIVIAL_OPS.map((op) => draw(op, 0)),
      ),
    );
    const diffs = tf.tidy(() => tf.max(tf.abs(tf.sub(same, x)), [1, 2, 3]).arraySync() as number[]);
    // autocontrast has no strength; posterize at 0 keeps 8 bits (a rounding to 1/255).
    TRIVIAL_OPS.forEach((op, i) => {
      if (op !== 'autocontrast') expect(diffs[i]).toBeLessThan(op === 'posterize' ? 2 / 255 : 1e-5);
    });
    const strong = tf.tidy(() =>
      applyTrivial(
        x,
        TRIVIAL_OPS.map((op) => draw(op, 1, -1)),
      ),
    );
    expect(strong.shape).toEqual(x.shape);
    const v = strong.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(strong, x)), [1, 2, 3]).arraySync() as number[]);
    TRIVIAL_OPS.forEach((op, i) => {
      if (op !== 'identity') expect(moved[i]).toBeGreaterThan(0.01);
    });
    tf.dispose([x, same, strong]);
  });

  it('solarize at full strength inverts every pixel; posterize at full strength keeps 2 bits', () => {
    const x = ramp(2, 4, 4, 3);
    const y = tf.tidy(() => applyTrivial(x, [draw('solarize', 1), draw('posterize', 1)]));
    const xs = x.arraySync();
    const ys = y.arraySync();
    expect(Math.abs(ys[0][1][2][0] - (1 - xs[0][1][2][0]))).toBeLessThan(1e-6);
    const levels = new Set(ys[1].flat(2).map((v) => Math.round(v * 255)));
    for (const l of levels) expect([0, 64, 128, 192]).toContain(l);
    tf.dispose([x, y]);
  });

  it('translateX moves the columns by 32/224 of the width, filling with grey', () => {
    const x = ramp(1, 4, 28, 1);
    const y = tf.tidy(() => applyTrivial(x, [draw('translateX', 1, 1)]));
    const shift = Math.round((32 / 224) * 28); // 4 px: output column c reads input column c + 4
    const a = x.arraySync();
    const b = y.arraySync();
    expect(Math.abs(b[0][2][10][0] - a[0][2][10 + shift][0])).toBeLessThan(1e-5);
    expect(Math.abs(b[0][2][27][0] - 0.5)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
  });
});

describe('RandAugment', () => {
  it('draws `ops` rounds of one uniform op per sample, all at magnitude / 30, reproducibly', () => {
    const d = drawRandAugment(1000, new Rng(9));
    expect(drawRandAugment(1000, new Rng(9))).toEqual(d);
    expect(d.length).toBe(2);
    const all = d.flat();
    expect(all.every((x) => Math.abs(x.magnitude - 9 / 30) < 1e-12 && Math.abs(x.sign) === 1)).toBe(true);
    const counts = new Map<string, number>();
    for (const x of all) counts.set(x.op, (counts.get(x.op) ?? 0) + 1);
    expect(counts.size).toBe(TRIVIAL_OPS.length);
    for (const c of counts.values()) expect(Math.abs(c - 2000 / TRIVIAL_OPS.length)).toBeLessThan(60);
    expect(
      drawRandAugment(3, new Rng(1), { ops: 3, magnitude: 30 })
        .flat()
        .map((x) => x.magnitude),
    ).toEqual(Array.from({ length: 9 }, () => 1));
  });

  it('uses the standard ranges: translateX at full strength moves 150/331 of the width', () => {
    const x = ramp(1, 4, 33, 1);
    const draw: TrivialDraw = { op: 'translateX', magnitude: 1, sign: 1 };
    const y = tf.tidy(() => applyTrivial(x, [draw], RANDAUGMENT_RANGES));
    const shift = (150 / 331) * 33; // 14.95 px
    const a = x.arraySync();
    const b = y.arraySync();
    // Output column 5 reads input column 19.95 (bilinear between 19 and 20).
    const expected = a[0][1][19][0] * (1 - (shift % 1)) + a[0][1][20][0] * (shift % 1);
    expect(Math.abs(b[0][1][5][0] - expected)).toBeLessThan(1e-4);
    tf.dispose([x, y]);
  });

  it('keeps shape and [0, 1], is a function of the generator, and changes images more at higher magnitude', () => {
    const x = ramp(16, 12, 12, 3);
    const run = (magnitude: number, seed: number) =>
      tf.tidy(() => randAugment(x, new Rng(seed), { magnitude }));
    const a = run(9, 2);
    const b = run(9, 2);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(a.shape).toEqual(x.shape);
    const v = a.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    const change = (y: tf.Tensor) => tf.tidy(() => tf.mean(tf.abs(tf.sub(y, x))).dataSync()[0]);
    const weak = run(2, 3);
    const strong = run(30, 3);
    expect(change(strong)).toBeGreaterThan(change(weak));
    tf.dispose([x, a, b, weak, strong]);
  });
});

describe('mixup and cutmix', () => {
  it('Beta(alpha, alpha) draws have the right mean and variance', () => {
    const rng = new Rng(11);
    const draws = Array.from({ length: 4000 }, () => betaSample(0.2, rng));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1 / (4 * (2 * 0.2 + 1)))).toBeLessThan(0.015);
  });

  it('mixup mixes images and one-hot labels with the same lambda and partner', () => {
    const x = ramp(4, 3, 3, 1);
    const ys = tf.tensor1d([0, 1, 2, 1], 'int32');
    const m = mixup(x, ys, 3, new Rng(2));
    const xs = x.arraySync();
    const out = m.xs.arraySync();
    const soft = m.ys.arraySync();
    const labels = [0, 1, 2, 1];
    for (let i = 0; i < 4; i++) {
      const j = m.partner[i];
      expect(
        Math.abs(out[i][1][2][0] - (m.lambda * xs[i][1][2][0] + (1 - m.lambda) * xs[j][1][2][0])),
      ).toBeLessThan(1e-5);
      const expected = [0, 0, 0];
      expected[labels[i]] += m.lambda;
      expected[labels[j]] += 1 - m.lambda;
      soft[i].forEach((v, k) => expect(Math.abs(v - expected[k])).toBeLessThan(1e-5));
    }
    tf.dispose([x, ys, m.xs, m.ys]);
  });

  it("cutmix pastes one box from the partner and weights the labels by the box's area", () => {
    const x = ramp(3, 8, 8, 1);
    const ys = tf.tensor1d([0, 1, 2], 'int32');
    const m = cutmix(x, ys, 3, new Rng(5));
    const xs = x.arraySync();
    const out = m.xs.arraySync();
    let fromPartner = 0;
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) {
        const j = m.partner[0];
        if (out[0][r][c][0] !== xs[0][r][c][0]) {
          expect(out[0][r][c][0]).toBe(xs[j][r][c][0]);
          fromPartner++;
        }
      }
    const self = m.partner[0] === 0;
    if (!self) expect(Math.abs(1 - fromPartner / 64 - m.lambda)).toBeLessThan(1e-6);
    const soft = m.ys.arraySync();
    soft.forEach((row) => expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5));
    tf.dispose([x, ys, m.xs, m.ys]);
  });
});

describe('imageAugmenter trivial / mixup / cutmix in train()', () => {
  /** 4x4x3 images: class k brighter in channel k. */
  function images(count: number) {
    return arrayBatches({
      count,
      batchSize: 4,
      shuffle: true,
      sampleShape: [4, 4, 3],
      fill: (i, xs, off) => {
        for (let k = 0; k < 48; k++) xs[off + k] = ((i * 7 + k * 3) % 10) / 20 + (k % 3 === i % 3 ? 0.5 : 0);
        return i % 3;
      },
    });
  }
  function imageModel(seed: number): tf.LayersModel {
    return withSeededRandom(seed, () =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [4, 4, 3] }),
          tf.layers.dense({ units: 8, activation: 'relu' }),
          tf.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
    );
  }

  it('mixup returns soft targets of the batch; a plain policy returns images only', () => {
    const aug = imageAugmenter('mixup', { kind: 'unit' }, { numClasses: 3 })!;
    const x = ramp(4, 4, 4, 3);
    const ys = tf.tensor1d([0, 1, 2, 0], 'int32');
    const out = aug(x, { seed: 1, epoch: 0, step: 0 }, ys) as { xs: tf.Tensor; ys: tf.Tensor };
    expect(out.ys.shape).toEqual([4, 3]);
    expect(out.xs.shape).toEqual([4, 4, 4, 3]);
    const t = imageAugmenter('trivial', { kind: 'unit' })!(x, { seed: 1, epoch: 0, step: 0 }, ys);
    expect(t).toBeInstanceOf(tf.Tensor);
    expect(() => imageAugmenter('cutmix', { kind: 'unit' })).toThrow(/numClasses/);
    tf.dispose([x, ys, out.xs, out.ys, t]);
  });

  it.each(['trivial', 'mixup', 'cutmix'] as const)(
    "'%s': a run cancelled mid-epoch and resumed ends with the uninterrupted run's weights",
    async (policy) => {
      const augment = imageAugmenter(policy, { kind: 'unit' }, { numClasses: 3 })!;
      const opts = { data: images(16), epochs: 3, seed: 3, learningRate: 0.05, augment };
      const ref = imageModel(1);
      await train(ref, opts);
      const plain = imageModel(1);
      await train(plain, { ...opts, augment: undefined });
      expect(weightValues(plain)).not.toEqual(weightValues(ref));

      const store = new MemoryCheckpointStore();
      const ac = new AbortController();
      const first = imageModel(1);
      const r1 = await train(first, {
        ...opts,
        checkpoint: { store, key: 'run' },
        signal: ac.signal,
        progressEverySteps: 1,
        onProgress: (p) => {
          if (p.kind === 'step' && p.globalStep === 6) ac.abort(); // epoch 1, step 2
        },
      });
      expect(r1.status).toBe('cancelled');
      const resumed = imageModel(9);
      const r2 = await train(resumed, { ...opts, checkpoint: { store, key: 'run' } });
      expect(r2.resumedFrom).toEqual({ epoch: 1, step: 2, globalStep: 6 });
      expect(weightValues(resumed)).toEqual(weightValues(ref));
      for (const m of [ref, plain, first, resumed]) m.dispose();
    },
  );
});
