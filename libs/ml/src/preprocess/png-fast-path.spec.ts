import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import sharp, { type PngOptions } from 'sharp';
import { decodeImage, decodeImageWithSharp } from './decode-image';
import { decodePlainPng, PNG_FAST_PATH_MAX_PIXELS } from './png-fast-path';

/** Deterministic noise (every byte value appears), so a wrong channel or row shows. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function encodeWithSharp(
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  seed: number,
  png: PngOptions = {},
) {
  const image = sharp(noise(width * height * channels, seed), { raw: { width, height, channels } });
  // Without b-w, sharp writes one- and two-channel input as RGB(A).
  return (channels <= 2 ? image.toColourspace('b-w') : image).png(png).toBuffer();
}

/** pngjs's own encoder: other filter choices than libspng's. */
function encodeWithPngjs(
  width: number,
  height: number,
  colorType: 0 | 2,
  seed: number,
  filterType = -1,
): Buffer {
  const png = new PNG({ width, height, colorType, inputColorType: 6, bitDepth: 8, inputHasAlpha: true });
  const rgb = noise(width * height * 3, seed);
  for (let p = 0; p < width * height; p++) {
    png.data[p * 4] = rgb[p * 3];
    png.data[p * 4 + 1] = colorType === 0 ? rgb[p * 3] : rgb[p * 3 + 1];
    png.data[p * 4 + 2] = colorType === 0 ? rgb[p * 3] : rgb[p * 3 + 2];
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png, { colorType, filterType });
}

/** The chunks of a PNG, and a PNG built back from chunks (with correct CRCs). */
function chunksOf(png: Buffer): Array<{ type: string; data: Buffer }> {
  const out: Array<{ type: string; data: Buffer }> = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

function pngOf(chunks: Array<{ type: string; data: Buffer }>): Buffer {
  const parts: Buffer[] = [png8Signature];
  for (const { type, data } of chunks) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    parts.push(head, data, crc);
  }
  return Buffer.concat(parts);
}
const png8Signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The PNG with its pixel data (filter bytes and all, inflated) changed by `edit`, recompressed in one IDAT. */
function withPixelData(png: Buffer, edit: (raw: Buffer) => Buffer): Buffer {
  const chunks = chunksOf(png);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const idat = { type: 'IDAT', data: deflateSync(edit(Buffer.from(raw))) };
  return pngOf([
    ...chunks.filter((c) => c.type !== 'IDAT' && c.type !== 'IEND'),
    idat,
    { type: 'IEND', data: Buffer.alloc(0) },
  ]);
}

describe('small-PNG fast path', () => {
  it.each([
    ['gray 28x28 -> 1 channel', 28, 28, 1, 1],
    ['gray 28x28 -> 3 channels', 28, 28, 1, 3],
    ['rgb 32x32 -> 3 channels', 32, 32, 3, 3],
    ['gray 64x48 -> 1 channel (not square)', 64, 48, 1, 1],
    ['rgb 128x128 -> 3 channels (the size cap)', 128, 128, 3, 3],
  ] as const)(
    '%s: byte-identical to the sharp pipeline',
    async (_name, width, height, sourceChannels, channels) => {
      for (const seed of [1, 2, 3]) {
        for (const png of [
          await encodeWithSharp(width, height, sourceChannels, seed),
          await encodeWithSharp(width, height, sourceChannels, seed, {
            compressionLevel: 0,
            adaptiveFiltering: true,
          }),
          encodeWithPngjs(width, height, sourceChannels === 1 ? 0 : 2, seed),
        ]) {
          const options = { width, height, channels };
          const fast = decodePlainPng(png, width, height, channels);
          expect(fast).not.toBeNull();
          const slow = await decodeImageWithSharp(png, options);
          expect(Buffer.from(fast!).equals(Buffer.from(slow.pixels))).toBe(true);
          const viaDecodeImage = await decodeImage(png, options);
          expect(Buffer.from(viaDecodeImage.pixels).equals(Buffer.from(slow.pixels))).toBe(true);
          expect(viaDecodeImage.source.format).toBe('png');
        }
      }
    },
  );

  it('leaves to sharp every PNG that needs a transformation or more than plain decoding', async () => {
    const gray = await encodeWithSharp(28, 28, 1, 7);
    const rgb = await encodeWithSharp(28, 28, 3, 7);
    const cases: Array<[string, Buffer, number, number, 1 | 3]> = [
      ['other size (resize)', gray, 14, 14, 1],
      ['colour RGB to gray (conversion)', rgb, 28, 28, 1],
      ['alpha (flatten)', await encodeWithSharp(28, 28, 4, 7), 28, 28, 3],
      ['gray + alpha', await encodeWithSharp(28, 28, 2, 7), 28, 28, 1],
      ['16-bit', await sharp(rgb).toColourspace('rgb16').png().toBuffer(), 28, 28, 3],
      ['palette', await encodeWithSharp(28, 28, 3, 7, { palette: true }), 28, 28, 3],
      ['interlaced', await encodeWithSharp(28, 28, 3, 7, { progressive: true }), 28, 28, 3],
      ['ICC profile', await sharp(rgb).withIccProfile('p3').png().toBuffer(), 28, 28, 3],
      ['EXIF orientation', await sharp(rgb).withMetadata({ orientation: 6 }).png().toBuffer(), 28, 28, 3],
      ['over the size cap', await encodeWithSharp(129, 129, 1, 7), 129, 129, 1],
      [
        'corrupt pixel data (bad CRC)',
        Buffer.from(gray.map((b, i) => (i === gray.length - 20 ? b ^ 0xff : b))),
        28,
        28,
        1,
      ],
      ['not a PNG', await sharp(rgb).jpeg().toBuffer(), 28, 28, 3],
    ];
    expect(129 * 129).toBeGreaterThan(PNG_FAST_PATH_MAX_PIXELS);
    for (const [name, png, width, height, channels] of cases) {
      expect([name, decodePlainPng(png, width, height, channels)]).toEqual([name, null]);
    }
  });

  it.each([0, 1, 2, 3, 4])(
    'undoes row filter %i (every row) as libvips does, gray and RGB',
    async (filterType) => {
      for (const [colorType, channels] of [
        [0, 1],
        [2, 3],
      ] as const) {
        const png = encodeWithPngjs(30, 20, colorType, 40 + filterType, filterType);
        const raw = inflateSync(
          Buffer.concat(
            chunksOf(png)
              .filter((c) => c.type === 'IDAT')
              .map((c) => c.data),
          ),
        );
        const stride = 30 * channels + 1;
        expect(Array.from({ length: 20 }, (_, y) => raw[y * stride])).toEqual(Array(20).fill(filterType));
        const fast = decodePlainPng(png, 30, 20, channels);
        expect(fast).not.toBeNull();
        expect(
          Buffer.from(fast!).equals(
            Buffer.from((await decodeImageWithSharp(png, { width: 30, height: 20, channels })).pixels),
          ),
        ).toBe(true);
      }
    },
  );

  it('joins pixel data split over several IDAT chunks', async () => {
    const png = await encodeWithSharp(28, 28, 3, 11, { adaptiveFiltering: true });
    const chunks = chunksOf(png);
    const data = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
    const split = [1, 17, 200].reduce<Buffer[]>(
      (parts, cut) => [
        ...parts,
        data.subarray(
          parts.reduce((n, p) => n + p.length, 0),
          cut,
        ),
      ],
      [],
    );
    split.push(data.subarray(200));
    const rebuilt = pngOf([
      ...chunks.filter((c) => c.type !== 'IDAT' && c.type !== 'IEND'),
      ...split.map((d) => ({ type: 'IDAT', data: d })),
      { type: 'IEND', data: Buffer.alloc(0) },
    ]);
    expect(chunksOf(rebuilt).filter((c) => c.type === 'IDAT')).toHaveLength(4);
    const fast = decodePlainPng(rebuilt, 28, 28, 3);
    expect(fast).not.toBeNull();
    expect(
      Buffer.from(fast!).equals(
        Buffer.from((await decodeImageWithSharp(png, { width: 28, height: 28, channels: 3 })).pixels),
      ),
    ).toBe(true);
  });

  it('leaves damaged pixel data to sharp: too short, too long, an unknown row filter, truncated, no IEND', async () => {
    const png = await encodeWithSharp(28, 28, 1, 12);
    expect(
      decodePlainPng(
        withPixelData(png, (raw) => raw),
        28,
        28,
        1,
      ),
    ).not.toBeNull();
    const damaged: Array<[string, Buffer]> = [
      ['one byte short', withPixelData(png, (raw) => raw.subarray(0, raw.length - 1))],
      [
        'one row too many (inflate is capped at the image size)',
        withPixelData(png, (raw) => Buffer.concat([raw, raw.subarray(0, 29)])),
      ],
      ['filter type 5', withPixelData(png, (raw) => ((raw[29 * 3] = 5), raw))],
      ['cut in the middle', png.subarray(0, png.length - 30)],
      ['no IEND', png.subarray(0, png.length - 12)],
    ];
    for (const [name, bad] of damaged) expect([name, decodePlainPng(bad, 28, 28, 1)]).toEqual([name, null]);
  });

  it('takes gray stored as RGB (r = g = b) to one channel exactly as libvips does, all 256 levels', async () => {
    const rgb = Buffer.alloc(16 * 16 * 3);
    for (let p = 0; p < 256; p++) rgb.fill(255 - p, p * 3, p * 3 + 3);
    const png = await sharp(rgb, { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toBuffer();
    const options = { width: 16, height: 16, channels: 1 as const };
    const fast = decodePlainPng(png, 16, 16, 1);
    expect(fast).not.toBeNull();
    expect(Array.from(fast!)).toEqual(Array.from((await decodeImageWithSharp(png, options)).pixels));
    expect(Array.from(fast!)).toEqual(Array.from({ length: 256 }, (_, p) => 255 - p));
  });

  it('still honours a pixel cap below the image size', async () => {
    const png = await encodeWithSharp(28, 28, 1, 9);
    await expect(
      decodeImage(png, { width: 28, height: 28, channels: 1, maxInputPixels: 100 }),
    ).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
  });
});
