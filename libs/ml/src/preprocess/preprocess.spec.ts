import * as tf from '@tensorflow/tfjs';
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from './decode-image';
import { normalizePixels } from './normalization';
import { PreprocessError } from './preprocess-errors';
import { imagesToBatch, imageToTensor, preprocessImage } from './preprocess-image';

type Rgb = { r: number; g: number; b: number };

async function solid(width: number, height: number, color: Rgb): Promise<Sharp> {
  return sharp({ create: { width, height, channels: 3, background: color } });
}

/** A width x height raw RGB image made of vertical bands of the given colors. */
function bands(width: number, height: number, colors: Rgb[]): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const color = colors[Math.floor((x * colors.length) / width)];
      data.set([color.r, color.g, color.b], (y * width + x) * 3);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

function pixel(pixels: Uint8Array, width: number, channels: number, x: number, y: number): number[] {
  const start = (y * width + x) * channels;
  return [...pixels.subarray(start, start + channels)];
}

function expectColor(actual: number[], expected: number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThanOrEqual(tolerance));
}

async function errorOf(promise: Promise<unknown>): Promise<PreprocessError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreprocessError);
  return error as PreprocessError;
}

const RED = { r: 255, g: 0, b: 0 };
const GREEN = { r: 0, g: 255, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };
const BLACK = { r: 0, g: 0, b: 0 };
const WHITE = { r: 255, g: 255, b: 255 };

describe('decodeImage', () => {
  it('applies EXIF orientation 6 (rotate 90° clockwise) before resizing', async () => {
    // Stored as 40x20: left half red, right half blue. Displayed upright: 20x40, red on top.
    const jpeg = await bands(40, 20, [RED, BLUE])
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeImage(jpeg, { width: 20, height: 40, channels: 3, fit: 'fill' });
    expect(image.source).toEqual({ format: 'jpeg' });
    expectColor(pixel(image.pixels, 20, 3, 2, 2), [255, 0, 0], 40);
    expectColor(pixel(image.pixels, 20, 3, 17, 2), [255, 0, 0], 40);
    expectColor(pixel(image.pixels, 20, 3, 2, 37), [0, 0, 255], 40);
    expectColor(pixel(image.pixels, 20, 3, 17, 37), [0, 0, 255], 40);
  });

  it('keeps the two halves of a two-color PNG when stretching', async () => {
    const png = await bands(64, 32, [BLACK, WHITE]).png().toBuffer();
    const image = await decodeImage(png, { width: 8, height: 4, channels: 3, fit: 'fill' });
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 8; x++) {
        expectColor(
          pixel(image.pixels, 8, 3, x, y),
          x < 4 ? [0, 0, 0] : [255, 255, 255],
          x === 3 || x === 4 ? 64 : 2,
        );
      }
    }
  });

  it('center-crops with cover and letterboxes with contain', async () => {
    const png = await bands(60, 20, [RED, GREEN, BLUE]).png().toBuffer();
    const cover = await decodeImage(png, { width: 8, height: 8, channels: 3, fit: 'cover' });
    for (let y = 0; y < 8; y++)
      for (let x = 1; x < 7; x++) expectColor(pixel(cover.pixels, 8, 3, x, y), [0, 255, 0], 8);

    const contain = await decodeImage(png, {
      width: 12,
      height: 12,
      channels: 3,
      fit: 'contain',
      background: WHITE,
    });
    // 60x20 into 12x12 -> 12x4 content band in the middle rows, white bars above and below.
    expectColor(pixel(contain.pixels, 12, 3, 6, 0), [255, 255, 255], 0);
    expectColor(pixel(contain.pixels, 12, 3, 6, 11), [255, 255, 255], 0);
    expectColor(pixel(contain.pixels, 12, 3, 0, 6), [255, 0, 0], 16);
    expectColor(pixel(contain.pixels, 12, 3, 6, 6), [0, 255, 0], 16);
    expectColor(pixel(contain.pixels, 12, 3, 11, 6), [0, 0, 255], 16);
  });

  it('converts to grayscale or to RGB as asked', async () => {
    const png = await bands(16, 16, [BLACK, WHITE]).png().toBuffer();
    const gray = await decodeImage(png, { width: 4, height: 4, channels: 1, fit: 'fill' });
    expect(gray.pixels).toHaveLength(16);
    // Resampling blends the two columns next to the edge; the outer ones keep their color.
    const row = [...gray.pixels.subarray(0, 4)];
    expect(row[0]).toBeLessThanOrEqual(2);
    expect(row[1]).toBeLessThan(64);
    expect(row[2]).toBeGreaterThan(191);
    expect(row[3]).toBeGreaterThanOrEqual(253);

    const grayPng = await (
      await solid(8, 8, { r: 200, g: 200, b: 200 })
    )
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const rgb = await decodeImage(grayPng, { width: 2, height: 2, channels: 3 });
    expect(rgb.pixels).toHaveLength(12);
    expectColor(pixel(rgb.pixels, 2, 3, 1, 1), [200, 200, 200], 1);
  });

  it('composites transparency onto the background', async () => {
    const png = await sharp({
      create: { width: 4, height: 4, channels: 4, background: { ...RED, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const image = await decodeImage(png, { width: 2, height: 2, channels: 3, background: GREEN });
    expectColor(pixel(image.pixels, 2, 3, 0, 0), [0, 255, 0], 0);
  });

  it.each([
    ['webp', (s: Sharp) => s.webp({ quality: 95 }), 'webp'],
    ['tiff', (s: Sharp) => s.tiff(), 'tiff'],
    ['avif', (s: Sharp) => s.avif({ quality: 90 }), 'heif'],
    ['16-bit png', (s: Sharp) => s.toColourspace('rgb16').png(), 'png'],
  ])('decodes %s', async (_name, encode, format) => {
    const bytes = await encode(await solid(16, 16, { r: 200, g: 100, b: 50 })).toBuffer();
    const image = await decodeImage(bytes, { width: 4, height: 4, channels: 3 });
    expect(image.source.format).toBe(format);
    expectColor(pixel(image.pixels, 4, 3, 2, 2), [200, 100, 50], 12);
  });

  it('takes the first frame of an animated GIF', async () => {
    const red = await (await solid(8, 8, RED)).png().toBuffer();
    const blue = await (await solid(8, 8, BLUE)).png().toBuffer();
    const gif = await sharp([red, blue], { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await decodeImage(gif, { width: 8, height: 8, channels: 3 });
    expect(image.source.format).toBe('gif');
    expect(image.height).toBe(8);
    expectColor(pixel(image.pixels, 8, 3, 4, 4), [255, 0, 0], 8);
  });

  it('refuses an image over the pixel cap with IMAGE_TOO_LARGE', async () => {
    const png = await (await solid(200, 100, WHITE)).png().toBuffer();
    const error = await errorOf(
      decodeImage(png, { width: 8, height: 8, channels: 3, maxInputPixels: 10_000 }),
    );
    expect(error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('refuses a decompression bomb (49 MP in a ~50 KB PNG) under the default cap', async () => {
    const bomb = await sharp({ create: { width: 7000, height: 7000, channels: 3, background: BLACK } })
      .toColourspace('b-w')
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.byteLength).toBeLessThan(200_000);
    const error = await errorOf(decodeImage(bomb, { width: 8, height: 8, channels: 3 }));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('refuses unknown bytes, SVG and truncated files with typed errors', async () => {
    expect(
      (await errorOf(decodeImage(Buffer.from('not an image at all'), { width: 4, height: 4, channels: 3 })))
        .code,
    ).toBe('IMAGE_UNSUPPORTED_FORMAT');
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    expect((await errorOf(decodeImage(svg, { width: 4, height: 4, channels: 3 }))).code).toBe(
      'IMAGE_UNSUPPORTED_FORMAT',
    );
    const jpeg = await (await solid(64, 64, RED)).jpeg().toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.byteLength / 2));
    expect((await errorOf(decodeImage(truncated, { width: 4, height: 4, channels: 3 }))).code).toBe(
      'IMAGE_DECODE_FAILED',
    );
  });
});

describe('normalization', () => {
  const pixels = new Uint8Array([0, 51, 255, 255, 102, 0]);

  it('scales to [0,1], [-1,1], raw, and per-channel mean/std', () => {
    expect([...normalizePixels(pixels, 3, { kind: 'unit' })]).toEqual(
      [0, 0.2, 1, 1, 0.4, 0].map(Math.fround),
    );
    const symmetric = normalizePixels(pixels, 3, { kind: 'symmetric' });
    expect(symmetric[0]).toBe(-1);
    expect(symmetric[2]).toBe(1);
    expect([...normalizePixels(pixels, 3, { kind: 'raw' })]).toEqual([0, 51, 255, 255, 102, 0]);
    const meanStd = normalizePixels(pixels, 3, { kind: 'meanStd', mean: [0.5, 0, 1], std: [0.5, 0.2, 1] });
    expect(meanStd[0]).toBeCloseTo(-1, 6);
    expect(meanStd[1]).toBeCloseTo(1, 6);
    expect(meanStd[2]).toBeCloseTo(0, 6);
    expect(meanStd[3]).toBeCloseTo(1, 6);
    expect(meanStd[4]).toBeCloseTo(2, 6);
    expect(meanStd[5]).toBeCloseTo(-1, 6);
  });

  it('averages 3-channel mean/std for grayscale images and broadcasts single values', () => {
    const gray = normalizePixels(new Uint8Array([0, 255]), 1, {
      kind: 'meanStd',
      mean: [0.4, 0.5, 0.6],
      std: [0.2, 0.2, 0.2],
    });
    expect(gray[0]).toBeCloseTo(-2.5, 5);
    expect(gray[1]).toBeCloseTo(2.5, 5);
    const broadcast = normalizePixels(new Uint8Array([255, 0, 255]), 3, {
      kind: 'meanStd',
      mean: [0.5],
      std: [0.5],
    });
    expect(Array.from(broadcast)).toEqual([1, -1, 1]);
  });

  it('refuses mean/std that do not match the channel count', () => {
    expect(() => normalizePixels(pixels, 3, { kind: 'meanStd', mean: [0, 0], std: [1, 1] })).toThrow(
      RangeError,
    );
  });
});

describe('preprocessImage / tensors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('produces normalized HWC float32 data and batches', async () => {
    const png = await bands(32, 32, [BLACK, WHITE]).png().toBuffer();
    const spec = { height: 4, width: 4, channels: 1 as const, normalization: { kind: 'symmetric' as const } };
    const image = await preprocessImage(png, spec, { fit: 'fill' });
    expect(image.shape).toEqual([4, 4, 1]);
    const row = [...image.data.subarray(0, 4)];
    expect(row[0]).toBeCloseTo(-1, 1);
    expect(row[1]).toBeLessThan(-0.5);
    expect(row[2]).toBeGreaterThan(0.5);
    expect(row[3]).toBeCloseTo(1, 1);

    const tensor = await imageToTensor(png, spec, { fit: 'fill' });
    expect(tensor.shape).toEqual([4, 4, 1]);
    tensor.dispose();
    const batch = await imagesToBatch([png, png, png], spec, { fit: 'fill' });
    expect(batch.shape).toEqual([3, 4, 4, 1]);
    expect(Array.from(await batch.data()).slice(16, 20)).toEqual(Array.from(image.data.subarray(0, 4)));
    batch.dispose();
  });
});

describe('preprocessImage with trainedFrom (a model trained on an upscaled dataset cache)', () => {
  it('fits the image to the cache size, then resizes bilinearly as training does', async () => {
    // A 16 px image with sharp edges, as a dataset cached at 16 px holds it.
    const raw = new Uint8Array(16 * 16 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
    const png = new Uint8Array(
      await sharp(Buffer.from(raw), { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const spec = { height: 40, width: 40, channels: 3 as const, normalization: { kind: 'unit' as const } };
    const served = await preprocessImage(png, spec, { trainedFrom: { height: 16, width: 16 } });
    // Training: the cached pixels, normalized, then tf.image.resizeBilinear (shard-batches toInputTensor).
    const trained = tf.tidy(() =>
      tf.image.resizeBilinear(
        tf.tensor3d(normalizePixels(raw, 3, spec.normalization), [16, 16, 3]),
        [40, 40],
      ),
    );
    const expected = trained.dataSync();
    trained.dispose();
    expect(served.shape).toEqual([40, 40, 3]);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(served.data[i] - expected[i]));
    expect(worst).toBeLessThan(1e-5);
    // Fitting straight to 40 px (sharp's kernel) gives other pixels: what serving did before.
    const direct = await preprocessImage(png, spec);
    let off = 0;
    for (let i = 0; i < expected.length; i++) off = Math.max(off, Math.abs(direct.data[i] - expected[i]));
    expect(off).toBeGreaterThan(0.05);
  });
});
