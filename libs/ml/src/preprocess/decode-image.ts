import sharp from 'sharp';
import { type ImageFormat, sniffImageFormat } from '@modelsmith/contracts';
import { decodePlainPng } from './png-fast-path';
import { PreprocessError } from './preprocess-errors';

/** How an image is fitted to the target size: center-crop, letterbox, or stretch. */
export type FitPolicy = 'cover' | 'contain' | 'fill';

export interface DecodeOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  fit?: FitPolicy;
  /** Letterbox and alpha background, 0..255 per RGB channel. Default black. */
  background?: { r: number; g: number; b: number };
  /** Refuse images with more input pixels than this (decompression-bomb guard). Default 40 MP. */
  maxInputPixels?: number;
}

export interface DecodedImage {
  /** Interleaved (HWC) 8-bit pixels, length height * width * channels. */
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** The input's container format, from its signature. */
  source: { format: ImageFormat };
}

export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

/** Formats accepted as input; sharp reports AVIF and HEIC as 'heif'. */
export const SUPPORTED_IMAGE_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'];

/**
 * Decodes an encoded image (first frame of animations), applies its EXIF orientation, fits it to
 * width x height by the policy, composites transparency onto the background, and converts it to
 * RGB or grayscale 8-bit pixels.
 */
export async function decodeImage(input: Uint8Array, options: DecodeOptions): Promise<DecodedImage> {
  const format = sniffImageFormat(input);
  if (
    format === 'png' &&
    options.width * options.height <= (options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS)
  ) {
    const pixels = decodePlainPng(input, options.width, options.height, options.channels);
    if (pixels)
      return {
        pixels,
        width: options.width,
        height: options.height,
        channels: options.channels,
        source: { format },
      };
  }
  return decodeImageWithSharp(input, options);
}

/** `decodeImage` without its small-PNG fast path: every image through libvips. */
export async function decodeImageWithSharp(input: Uint8Array, options: DecodeOptions): Promise<DecodedImage> {
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const background = options.background ?? { r: 0, g: 0, b: 0 };
  const sharpOptions = { limitInputPixels: maxInputPixels, failOn: 'error' as const, pages: 1, page: 0 };

  // The format comes from the bytes' signature, so one sharp call does all the work (a separate
  // metadata() call cost ~20% of a small image's decode) and nothing else ever reaches libvips.
  // The pixel cap is sharp's own limitInputPixels, checked from the header before decoding.
  const format = sniffImageFormat(input);
  if (!format) {
    throw new PreprocessError(
      'IMAGE_UNSUPPORTED_FORMAT',
      `image format not recognized (accepted: ${SUPPORTED_IMAGE_FORMATS.join(', ')})`,
    );
  }

  let pipeline = sharp(input, sharpOptions)
    .rotate()
    .flatten({ background })
    .resize(options.width, options.height, { fit: options.fit ?? 'cover', position: 'centre', background });
  pipeline = options.channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((error: unknown) => {
      throw mapSharpError(error);
    });
  if (info.width !== options.width || info.height !== options.height || info.channels !== options.channels) {
    throw new PreprocessError(
      'IMAGE_DECODE_FAILED',
      `decoder produced ${info.width}x${info.height}x${info.channels}, expected ${options.width}x${options.height}x${options.channels}`,
    );
  }
  return {
    pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: options.channels,
    source: { format },
  };
}

function mapSharpError(error: unknown): PreprocessError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new PreprocessError('IMAGE_TOO_LARGE', `image exceeds the pixel cap: ${message}`, {
      cause: error,
    });
  }
  if (/unsupported image format/i.test(message)) {
    return new PreprocessError('IMAGE_UNSUPPORTED_FORMAT', `image format not recognized: ${message}`, {
      cause: error,
    });
  }
  return new PreprocessError('IMAGE_DECODE_FAILED', `image could not be decoded: ${message}`, {
    cause: error,
  });
}
