import sharp from 'sharp';
import type { ImageFit, SkipReason } from '../stats/report-types';
import type { ImageFormat } from './sniff-image';
import { errorMessage } from '../util/error-message';

export interface CacheImageSpec {
  width: number;
  height: number;
  channels: 1 | 3;
  fit: ImageFit;
}

export interface DecodedImage {
  ok: true;
  /** uint8 HWC pixels at the cache resolution. */
  pixels: Uint8Array;
  /** Original size, after EXIF orientation. */
  width: number;
  height: number;
  channels: number;
  oriented: boolean;
}

export interface DecodeFailure {
  ok: false;
  reason: SkipReason;
  message: string;
}

function describe(err: unknown): string {
  const msg = errorMessage(err);
  return msg.split('\n')[0] ?? msg;
}

/**
 * Decodes one image under a pixel cap, applies EXIF orientation, resizes to the cache size and
 * returns uint8 HWC pixels. Never throws for bad input: returns a skip reason instead.
 */
export async function decodeImage(
  data: Buffer,
  format: ImageFormat,
  spec: CacheImageSpec,
  maxPixels: number,
): Promise<DecodedImage | DecodeFailure> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    // Header only: no pixels are decoded here, so no pixel limit is needed to read the size.
    meta = await sharp(data, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (err) {
    return { ok: false, reason: 'corrupt_image', message: `unreadable ${format} header: ${describe(err)}` };
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0)
    return { ok: false, reason: 'corrupt_image', message: `${format} without a valid size` };
  if (width * height > maxPixels) {
    return {
      ok: false,
      reason: 'image_too_large',
      message: `${width}x${height} is ${width * height} pixels; the cap is ${maxPixels}`,
    };
  }
  try {
    let pipeline = sharp(data, { limitInputPixels: maxPixels, failOn: 'warning', pages: 1 })
      .rotate()
      .flatten({ background: '#000000' })
      .resize(spec.width, spec.height, {
        fit: spec.fit,
        position: 'centre',
        background: '#000000',
        kernel: 'lanczos3',
      });
    pipeline = spec.channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    const { data: pixels, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const expected = spec.width * spec.height * spec.channels;
    if (info.channels !== spec.channels || pixels.length !== expected) {
      return {
        ok: false,
        reason: 'corrupt_image',
        message: `decoded to ${info.channels} channels / ${pixels.length} bytes, expected ${expected}`,
      };
    }
    const oriented = (meta.orientation ?? 1) > 1;
    const swap = (meta.orientation ?? 1) >= 5;
    return {
      ok: true,
      pixels,
      width: swap ? height : width,
      height: swap ? width : height,
      channels: meta.channels ?? 0,
      oriented,
    };
  } catch (err) {
    const message = describe(err);
    if (/pixel limit/i.test(message)) return { ok: false, reason: 'image_too_large', message };
    return {
      ok: false,
      reason: 'corrupt_image',
      message: `${format} could not be decoded (truncated or corrupt): ${message}`,
    };
  }
}
