import * as tf from '@tensorflow/tfjs';
import { resizeBilinearHwc } from './resize-bilinear';

describe('resizeBilinearHwc', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  /** Deterministic values in [0, 255]. */
  const image = (n: number, seed: number) =>
    Float32Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed * 97) >>> 0) % 256);

  it.each([
    [64, 64, 3, 128, 128],
    [64, 48, 3, 224, 224],
    [28, 28, 1, 64, 64],
    [128, 96, 3, 64, 40],
    [7, 5, 1, 3, 11],
    [1, 1, 3, 4, 4],
    [5, 9, 3, 5, 9],
  ])('matches tf.image.resizeBilinear (defaults) for %ix%ix%i -> %ix%i', (h, w, c, oh, ow) => {
    const src = image(h * w * c, h + w);
    const want = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor3d(src, [h, w, c]), [oh, ow]).dataSync(),
    ) as Float32Array;
    const got = resizeBilinearHwc(src, h, w, c, oh, ow);
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-3);
  });

  it('reads 8-bit pixels as well as floats, and refuses a buffer of the wrong size', () => {
    const px = Uint8Array.from([0, 100, 200, 255]);
    expect(Array.from(resizeBilinearHwc(px, 2, 2, 1, 2, 2))).toEqual([0, 100, 200, 255]);
    // Downscaling 4 -> 2 columns samples source columns 0 and 2 (no averaging, as the op).
    expect(Array.from(resizeBilinearHwc(px, 1, 4, 1, 1, 2))).toEqual([0, 200]);
    expect(() => resizeBilinearHwc(px, 2, 3, 1, 4, 4)).toThrow(RangeError);
  });
});
