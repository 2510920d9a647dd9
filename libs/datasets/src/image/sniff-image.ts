import { sniffImageFormat } from '@modelsmith/contracts';

/** The image formats datasets ingest (HEIF/AVIF is recognized but not ingested). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff';

/** Identifies the image formats we ingest from magic bytes; null for anything else. */
export function sniffImage(b: Uint8Array): ImageFormat | null {
  const format = sniffImageFormat(b);
  return format === 'heif' ? null : format;
}

/** Formats recognized (to give a precise skip reason) but not decoded. */
export function knownUnsupportedImage(b: Uint8Array, path: string): string | null {
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'BMP';
  if (/\.svg$/i.test(path)) return 'SVG';
  if (sniffImageFormat(b) === 'heif') return 'HEIC/AVIF';
  return null;
}
