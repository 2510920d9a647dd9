import * as tf from '@tensorflow/tfjs';
import { normalizePixels, type Normalization } from '@modelsmith/ml';
import { standardize, viewOf } from './frozen-head';

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

describe('standardize', () => {
  it('standardizes the columns, and the folded dense layer gives on raw features what it gave on standardized ones', () => {
    const dim = 4;
    const count = 12;
    // Columns on very different scales, one constant.
    const raw = Float32Array.from({ length: count * dim }, (_, i) => {
      const [r, d] = [Math.floor(i / dim), i % dim];
      return d === 3 ? 2.5 : Math.sin(r * 1.7 + d) * 10 ** d + d;
    });
    const f = { values: Float32Array.from(raw), labels: new Int32Array(count), count };
    const s = standardize(f, dim);
    for (let d = 0; d < 3; d++) {
      const col = Array.from({ length: count }, (_, r) => f.values[r * dim + d]);
      const mean = col.reduce((a, b) => a + b, 0) / count;
      expect(mean).toBeCloseTo(0, 4);
      expect(Math.sqrt(col.reduce((a, b) => a + b * b, 0) / count)).toBeCloseTo(1, 4);
    }
    const dense = tf.layers.dense({
      units: 3,
      inputShape: [dim],
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
    });
    const model = tf.sequential({ layers: [dense] });
    const onStandardized = (
      model.predict(tf.tensor2d(f.values, [count, dim])) as tf.Tensor
    ).arraySync() as number[][];
    s.fold([dense]);
    const onRaw = (model.predict(tf.tensor2d(raw, [count, dim])) as tf.Tensor).arraySync() as number[][];
    onRaw.forEach((row, r) => row.forEach((v, k) => expect(v).toBeCloseTo(onStandardized[r][k], 3)));
    model.dispose();
  });
});
