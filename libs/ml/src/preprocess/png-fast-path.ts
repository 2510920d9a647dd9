import { crc32, inflateSync } from 'node:zlib';

/**
 * Largest image (pixels) decoded on the calling thread: decoding here is synchronous, and below this
 * size it is far cheaper than a trip through libvips (~0.6 ms of CPU for a 28x28 PNG, mostly per-call
 * overhead; ~15 us here). Larger images go to sharp on the thread pool.
 */
export const PNG_FAST_PATH_MAX_PIXELS = 128 * 128;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Chunks that do not change the decoded pixels as sharp produces them. Anything else (iCCP, gAMA,
 * cHRM, sBIT: colour management; tRNS: transparency; eXIf: orientation; acTL: animation; PLTE and
 * unknown chunks) sends the image to sharp.
 */
const NEUTRAL_CHUNKS = new Set(['IHDR', 'IDAT', 'IEND', 'sRGB', 'pHYs', 'tIME', 'tEXt', 'zTXt', 'iTXt']);

const COLOR_GRAY = 0;
const COLOR_RGB = 2;

/**
 * Decodes a small, plain PNG that needs no transformation to become the wanted pixels: 8-bit
 * grayscale or RGB, not interlaced, no transparency, colour profile or orientation, already
 * `width` x `height`; for one channel from RGB, every pixel neutral (r = g = b; a colour pixel's
 * RGB-to-gray conversion is left to libvips, whose formula training used). The result is
 * byte-identical to what the sharp pipeline in `decodeImage` gives for the same image (tested).
 * Returns null whenever any of that does not hold or the file is damaged (bad chunk CRC, pixel data
 * that does not inflate to exactly the image's size), and the caller decodes with sharp, which
 * reports errors the usual way.
 *
 * For these images a PNG is zlib data plus one of five per-row filters, so this is zlib's inflate
 * (native, capped at the image's own size) and the filters undone in place. It replaced pngjs's
 * synchronous reader, which took ~35 us of a ~50 us preprocess per 28x28 image (its stream and
 * RGBA-expansion machinery; zlib's inflate is ~10 us of it) and was the largest cost left on the
 * serving request thread for small models.
 */
export function decodePlainPng(
  input: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
): Uint8Array | null {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE)) return null;
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const w = bytes.readUInt32BE(16);
  const h = bytes.readUInt32BE(20);
  const [depth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (w !== width || h !== height || w * h > PNG_FAST_PATH_MAX_PIXELS) return null;
  if (depth !== 8 || interlace !== 0 || compression !== 0 || filter !== 0) return null;
  if (colorType !== COLOR_GRAY && colorType !== COLOR_RGB) return null;
  const idat: Buffer[] = [];
  let ended = false;
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const end = at + 12 + length;
    if (end > bytes.length) return null;
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (!NEUTRAL_CHUNKS.has(type)) return null;
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== bytes.readUInt32BE(at + 8 + length)) return null;
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') {
      ended = true;
      break;
    }
    at = end;
  }
  if (!ended || idat.length === 0) return null;
  const bpp = colorType === COLOR_RGB ? 3 : 1;
  const stride = w * bpp;
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), {
      maxOutputLength: (stride + 1) * h,
    });
  } catch {
    return null;
  }
  const pixels = unfilter(raw, w, h, bpp);
  if (!pixels) return null;
  if (bpp === channels) return pixels;
  const out = new Uint8Array(w * h * channels);
  if (bpp === 3) {
    // Gray stored as RGB (common) to one channel: libvips maps a neutral pixel (r = g = b = v) to v,
    // all 256 levels (tested), so only a colour pixel needs its conversion.
    for (let p = 0, o = 0; o < out.length; p += 3, o++) {
      if (pixels[p] !== pixels[p + 1] || pixels[p] !== pixels[p + 2]) return null;
      out[o] = pixels[p];
    }
    return out;
  }
  // Gray to three channels: the value in each.
  for (let p = 0, o = 0; p < pixels.length; p++, o += 3) out[o] = out[o + 1] = out[o + 2] = pixels[p];
  return out;
}

/**
 * Undoes the PNG row filters (None, Sub, Up, Average, Paeth; RFC 2083 6.3) of `h` rows of `w` pixels
 * of `bpp` bytes, each row led by its filter byte. Null when the data is not exactly that long or a
 * filter byte is unknown.
 */
function unfilter(raw: Buffer, w: number, h: number, bpp: number): Uint8Array | null {
  const stride = w * bpp;
  if (raw.length !== (stride + 1) * h) return null;
  // One zero row in front stands for the row above the first, so no loop below tests bounds.
  const buf = new Uint8Array(stride * (h + 1));
  for (let y = 0; y < h; y++) {
    const src = y * (stride + 1) + 1;
    const row = (y + 1) * stride;
    const up = row - stride;
    switch (raw[src - 1]) {
      case 0:
        buf.set(raw.subarray(src, src + stride), row);
        break;
      case 1:
        for (let x = 0; x < bpp; x++) buf[row + x] = raw[src + x];
        for (let x = bpp; x < stride; x++) buf[row + x] = raw[src + x] + buf[row + x - bpp];
        break;
      case 2:
        for (let x = 0; x < stride; x++) buf[row + x] = raw[src + x] + buf[up + x];
        break;
      case 3:
        for (let x = 0; x < bpp; x++) buf[row + x] = raw[src + x] + (buf[up + x] >> 1);
        for (let x = bpp; x < stride; x++)
          buf[row + x] = raw[src + x] + ((buf[row + x - bpp] + buf[up + x]) >> 1);
        break;
      case 4:
        // Paeth: left (a), above (b) or upper left (c), whichever is nearest a + b - c.
        for (let x = 0; x < bpp; x++) buf[row + x] = raw[src + x] + buf[up + x];
        for (let x = bpp; x < stride; x++) {
          const a = buf[row + x - bpp];
          const b = buf[up + x];
          const c = buf[up + x - bpp];
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          buf[row + x] = raw[src + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        return null;
    }
  }
  return buf.subarray(stride);
}
