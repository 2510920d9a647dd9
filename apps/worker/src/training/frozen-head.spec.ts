import * as tf from '@tensorflow/tfjs';
import { normalizePixels, type Normalization } from '@modelsmith/ml';
import { viewOf } from './frozen-head';

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
});
