import { PNG } from 'pngjs';

/**
 * Largest image (pixels) decoded on the calling thread: pngjs is synchronous, and below this size it
 * is far cheaper than a trip through libvips (~0.6 ms of CPU for a 28x28 PNG, mostly per-call
 * overhead; pngjs needs a few tens of microseconds). Larger images go to sharp on the thread pool.
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
 * RGB-to-gray conversion is left to libvips, whose formula training used). The result is byte-identical to what the sharp pipeline in
 * `decodeImage` gives for the same image (tested). Returns null whenever any of that does not hold or
 * pngjs refuses the file, and the caller decodes with sharp, which reports errors the usual way.
 */
export function decodePlainPng(input: Uint8Array, width: number, height: number, channels: 1 | 3): Uint8Array | null {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE)) return null;
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const w = bytes.readUInt32BE(16);
  const h = bytes.readUInt32BE(20);
  const [depth, colorType, , , interlace] = bytes.subarray(24, 29);
  if (w !== width || h !== height || w * h > PNG_FAST_PATH_MAX_PIXELS) return null;
  if (depth !== 8 || interlace !== 0) return null;
  if (colorType !== COLOR_GRAY && colorType !== COLOR_RGB) return null;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (!NEUTRAL_CHUNKS.has(type)) return null;
    if (type === 'IEND') break;
    at += 12 + length;
  }
  let rgba: Buffer;
  try {
    // Not interlaced, so pngjs inflates with an output cap of the image's own size.
    rgba = PNG.sync.read(bytes, { checkCRC: true }).data;
  } catch {
    return null;
  }
  if (rgba.length !== w * h * 4) return null;
  const out = new Uint8Array(w * h * channels);
  if (colorType === COLOR_RGB && channels === 1) {
    // Gray stored as RGB (common): libvips maps a neutral pixel (r = g = b = v) to v, all 256 levels
    // (tested), so only a colour pixel needs its conversion.
    for (let p = 0, o = 0; p < rgba.length; p += 4, o++) {
      if (rgba[p] !== rgba[p + 1] || rgba[p] !== rgba[p + 2]) return null;
      out[o] = rgba[p];
    }
    return out;
  }
  for (let p = 0, o = 0; p < rgba.length; p += 4) {
    out[o++] = rgba[p];
    if (channels === 3) {
      out[o++] = rgba[p + 1];
      out[o++] = rgba[p + 2];
    }
  }
  return out;
}
