import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { normalizePixels, type Normalization } from './normalization';
import {
  averageProbabilities,
  predictProbabilities,
  testTimeAveragingOf,
  testTimeViewsSchema,
  viewOf,
  viewProbabilities,
} from './image-views';

/** The feature head's training views on normalized batches: what they show, whatever the normalization. */
describe('viewOf', () => {
  // One 1x2 image: a red pixel, then a blue one.
  const pixels = new Uint8Array([200, 10, 30, 0, 50, 250]);
  const batch = (n: Normalization) => tf.tensor4d(normalizePixels(pixels, 3, n), [1, 1, 2, 3]);
  const normalizations: Normalization[] = [
    { kind: 'unit' },
    { kind: 'symmetric' },
    { kind: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  ];

  for (const n of normalizations)
    it(`gray is the normalized luma in every channel, mirror swaps the columns (${n.kind})`, () => {
      const xs = batch(n);
      const luma = [0, 1].map(
        (p) => 0.299 * pixels[p * 3] + 0.587 * pixels[p * 3 + 1] + 0.114 * pixels[p * 3 + 2],
      );
      const gray = viewOf(xs, 'gray', n);
      const want = tf.tidy(() => {
        const raw = tf
          .tensor4d(
            luma.flatMap((l) => [l, l, l]),
            [1, 1, 2, 3],
          )
          .div(255);
        if (n.kind === 'unit') return raw;
        if (n.kind === 'symmetric') return raw.mul(2).sub(1);
        if (n.kind === 'meanStd') return raw.sub(tf.tensor1d(n.mean)).div(tf.tensor1d(n.std));
        throw new Error('unexpected normalization');
      });
      const got = gray.dataSync();
      want.dataSync().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
      const mirror = viewOf(xs, 'mirror', n);
      expect(Array.from(mirror.dataSync())).toEqual(
        Array.from(xs.dataSync().slice(3)).concat(Array.from(xs.dataSync().slice(0, 3))),
      );
      const image = viewOf(xs, 'image', n);
      expect(Array.from(image.dataSync())).toEqual(Array.from(xs.dataSync()));
      tf.dispose([xs, gray, want, mirror, image]);
    });

  it.each(['cpu', 'wasm'] as const)(
    'mirror on the %s backend: the values of tf.reverse on the width axis, exactly',
    async (backend) => {
      const before = tf.getBackend();
      await initBackend({ prefer: backend });
      expect(tf.getBackend()).toBe(backend);
      try {
        const xs = tf.randomUniform<tf.Rank.R4>([3, 5, 7, 3], -2, 2, 'float32', 4);
        const mirror = viewOf(xs, 'mirror', { kind: 'symmetric' });
        const reversed = tf.reverse(xs, 2);
        expect(mirror.shape).toEqual([3, 5, 7, 3]);
        expect(Array.from(mirror.dataSync())).toEqual(Array.from(reversed.dataSync()));
        tf.dispose([xs, mirror, reversed]);
      } finally {
        await tf.setBackend(before);
      }
    },
  );

  for (const n of normalizations)
    it(`posterize keeps 4 levels per channel; sketch is white on flat areas, black on edges (${n.kind})`, () => {
      // 8x8: left half black, right half white; the posterize input is a ramp of 8 values per channel.
      const half = new Uint8Array(8 * 8 * 3).map((_, i) => (Math.floor(i / 3) % 8 < 4 ? 0 : 255));
      const toUnit = (t: tf.Tensor) =>
        tf.tidy(() => {
          if (n.kind === 'unit') return t;
          if (n.kind === 'symmetric') return t.add(1).div(2);
          if (n.kind === 'meanStd') return t.mul(tf.tensor1d(n.std)).add(tf.tensor1d(n.mean));
          throw new Error('unexpected normalization');
        });
      const edge = tf.tensor4d(normalizePixels(half, 3, n), [1, 8, 8, 3]);
      const sketch = toUnit(viewOf(edge, 'sketch', n)).arraySync() as number[][][][];
      expect(sketch[0][4][0][0]).toBeCloseTo(1, 4); // flat: white
      expect(sketch[0][4][7][1]).toBeCloseTo(1, 4);
      expect(sketch[0][4][3][2]).toBeCloseTo(0, 4); // at the edge: black
      expect(sketch[0][4][4][0]).toBeCloseTo(0, 4);
      const ramp = new Uint8Array(8 * 3).map((_, i) => Math.floor(i / 3) * 36);
      const xs = tf.tensor4d(normalizePixels(ramp, 3, n), [1, 1, 8, 3]);
      const poster = Array.from(toUnit(viewOf(xs, 'posterize', n)).dataSync());
      // 0, 36, ..., 252 of 255: quarters of the range map to 0, 1/3, 2/3, 1.
      const want = [0, 36, 72, 108, 144, 180, 216, 252].flatMap((v) => {
        const q = Math.min(3, Math.floor((v / 255) * 3.999)) / 3;
        return [q, q, q];
      });
      poster.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
      tf.dispose([edge, xs]);
    });
});

/** Test-time averaging: the model's probabilities averaged over the image and its views. */
describe('predictProbabilities', () => {
  const n: Normalization = { kind: 'symmetric' };
  // A model whose output depends on where and what colour the pixels are (so mirror and gray change it).
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 3, 3] }),
      tf.layers.dense({
        units: 4,
        activation: 'softmax',
        kernelInitializer: tf.initializers.randomNormal({ seed: 5, stddev: 2 }),
      }),
    ],
  });
  const pixels = Uint8Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => (i * 53 + 17) % 256);
  const xs = tf.tensor4d(normalizePixels(pixels, 3, n), [2, 2, 3, 3]);
  afterAll(() => {
    model.dispose();
    xs.dispose();
  });

  /** Row-major [2 x 4] probabilities of one input. */
  const probs = (x: tf.Tensor4D) => Array.from((model.predict(x) as tf.Tensor).dataSync());

  it('without test-time views is the model output itself', () => {
    const p = predictProbabilities(model, xs, undefined);
    expect(Array.from(p.dataSync())).toEqual(probs(xs));
    p.dispose();
  });

  it('averages the softmax over the image and each view, row by row, and the rows still sum to 1', () => {
    // The views by hand: the mirror reverses each row's 3 pixels; gray is the luma in all channels.
    const mirrored = new Uint8Array(pixels.length);
    for (let b = 0; b < 2; b++)
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 3; c++) {
          const at = (col: number) => ((b * 2 + r) * 3 + col) * 3;
          const src = at(c);
          mirrored.set(pixels.subarray(at(2 - c), at(2 - c) + 3), src);
        }
    const grayExact = tf.tidy<tf.Tensor4D>(() => {
      const l = tf
        .tensor4d(normalizePixels(pixels, 3, { kind: 'raw' }), [2, 2, 3, 3])
        .mul(tf.tensor1d([0.299, 0.587, 0.114]))
        .sum(3, true)
        .tile([1, 1, 1, 3]);
      return l.div(127.5).sub(1);
    });
    const parts = [
      probs(xs),
      probs(tf.tensor4d(normalizePixels(mirrored, 3, n), [2, 2, 3, 3])),
      probs(grayExact),
    ];
    const want = parts[0].map((_, i) => (parts[0][i] + parts[1][i] + parts[2][i]) / 3);
    const got = predictProbabilities(model, xs, { views: ['mirror', 'gray'], normalization: n });
    const values = Array.from(got.dataSync());
    values.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    for (let r = 0; r < 2; r++)
      expect(values.slice(r * 4, r * 4 + 4).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    // The averaging changed the answer (the spec would not notice a missing view otherwise).
    expect(Math.max(...values.map((v, i) => Math.abs(v - parts[0][i])))).toBeGreaterThan(1e-3);
    // Only the mirror: the mean of two.
    const mirrorOnly = predictProbabilities(model, xs, { views: ['mirror'], normalization: n });
    Array.from(mirrorOnly.dataSync()).forEach((v, i) =>
      expect(v).toBeCloseTo((parts[0][i] + parts[1][i]) / 2, 5),
    );
    tf.dispose([grayExact, got, mirrorOnly]);
  });

  it('averageProbabilities is the mean of its parts; viewProbabilities lists the image first', () => {
    const a = tf.tensor2d([
      [0.2, 0.8],
      [1, 0],
    ]);
    const b = tf.tensor2d([
      [0.6, 0.4],
      [0, 1],
    ]);
    const mean = averageProbabilities([a, b]);
    Array.from(mean.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0.4, 0.6, 0.5, 0.5][i], 6));
    expect(() => averageProbabilities([])).toThrow(RangeError);
    const parts = viewProbabilities(model, xs, { views: ['mirror'], normalization: n });
    expect(parts).toHaveLength(2);
    expect(Array.from(parts[0].dataSync())).toEqual(probs(xs));
    tf.dispose([a, b, mean, ...parts]);
  });

  it('a manifest without `tta` (or an empty one) predicts from the image alone; views are listed once each', () => {
    expect(testTimeAveragingOf({ normalization: n })).toBeUndefined();
    expect(testTimeAveragingOf({ normalization: n, tta: [] })).toBeUndefined();
    expect(testTimeAveragingOf({ normalization: n, tta: ['gray'] })).toEqual({
      views: ['gray'],
      normalization: n,
    });
    expect(testTimeViewsSchema.safeParse(['mirror', 'gray']).success).toBe(true);
    expect(testTimeViewsSchema.safeParse(['mirror', 'mirror']).success).toBe(false);
    expect(testTimeViewsSchema.safeParse(['sketch']).success).toBe(false);
  });
});
