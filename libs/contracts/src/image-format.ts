/**
 * The container format of encoded image bytes, from their signature, before any decoder sees them:
 * only these formats ever reach sharp (no SVG, PDF or raw pixel input, whatever libvips could read).
 * Names follow sharp's `metadata().format` (AVIF and HEIC are both 'heif').
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif';

/** ISO BMFF major/compatible brands of HEIF-family images (HEIC, AVIF and their sequences). */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

/** The format the bytes announce, or null when they are none of the accepted ones. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'tiff';
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') {
    // ftyp box: size (4), 'ftyp', major brand (4), minor version (4), compatible brands (4 each).
    const boxSize = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
    const end = Math.min(bytes.length, boxSize >= 16 ? boxSize : 12, 4096);
    if (HEIF_BRANDS.has(ascii(bytes, 8, 4))) return 'heif';
    for (let at = 16; at + 4 <= end; at += 4) if (HEIF_BRANDS.has(ascii(bytes, at, 4))) return 'heif';
  }
  return null;
}
