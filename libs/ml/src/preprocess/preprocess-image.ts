import * as tf from '@tensorflow/tfjs';
import { decodeImage, type DecodedImage, type FitPolicy } from './decode-image';
import { normalizePixels, type Normalization } from './normalization';
import { resizeBilinearHwc } from './resize-bilinear';

/** What a model expects from an image: size, channels, normalization (from a zoo entry or a manifest). */
export interface ImageInputSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  normalization: Normalization;
}

export interface PreprocessOptions {
  fit?: FitPolicy;
  background?: { r: number; g: number; b: number };
  maxInputPixels?: number;
  /**
   * Fit the image to this size first, then resize it bilinearly (tf.image.resizeBilinear) to the
   * spec's: what training does to a dataset cached at this size for a model with a larger input.
   */
  trainedFrom?: { height: number; width: number };
  /** Also return the 8-bit pixels the model sees, at the spec's size (e.g. for an explanation's overlay). */
  keepPixels?: boolean;
}

export interface PreprocessedImage {
  /** Normalized HWC float32 values. */
  data: Float32Array;
  shape: [number, number, number];
  source: DecodedImage['source'];
  /** HWC 8-bit pixels at the spec's size, when `keepPixels` asked for them. */
  pixels?: Uint8Array;
}

export async function preprocessImage(
  input: Uint8Array,
  spec: ImageInputSpec,
  options: PreprocessOptions = {},
): Promise<PreprocessedImage> {
  const { trainedFrom, keepPixels, ...decodeOptions } = options;
  const size = trainedFrom ?? spec;
  const decoded = await decodeImage(input, {
    ...decodeOptions,
    width: size.width,
    height: size.height,
    channels: spec.channels,
  });
  const data = normalizePixels(decoded.pixels, decoded.channels, spec.normalization);
  const shape: [number, number, number] = [decoded.height, decoded.width, decoded.channels];
  if (decoded.height === spec.height && decoded.width === spec.width)
    return { data, shape, source: decoded.source, ...(keepPixels ? { pixels: decoded.pixels } : {}) };
  // A plain loop with tf.image.resizeBilinear's semantics: the op itself costs a request thread
  // 10-25 ms per 128 px image on the pure-JS backend (resize-bilinear.ts).
  const [h, w, c] = shape;
  const out = resizeBilinearHwc(data, h, w, c, spec.height, spec.width);
  const pixels = keepPixels ? resizeBilinearHwc(decoded.pixels, h, w, c, spec.height, spec.width) : undefined;
  return {
    data: out,
    shape: [spec.height, spec.width, decoded.channels],
    source: decoded.source,
    // Uint8Array.from rounds nothing: round to the nearest level (values stay within 0..255).
    ...(pixels ? { pixels: Uint8Array.from(pixels, (v) => Math.round(v)) } : {}),
  };
}

/** Preprocesses one image into a [height, width, channels] tensor (caller disposes it). */
export async function imageToTensor(
  input: Uint8Array,
  spec: ImageInputSpec,
  options: PreprocessOptions = {},
): Promise<tf.Tensor3D> {
  const image = await preprocessImage(input, spec, options);
  return tf.tensor3d(image.data, image.shape, 'float32');
}

/** Preprocesses images into one [n, height, width, channels] batch tensor (caller disposes it). */
export async function imagesToBatch(
  inputs: readonly Uint8Array[],
  spec: ImageInputSpec,
  options: PreprocessOptions = {},
): Promise<tf.Tensor4D> {
  const size = spec.height * spec.width * spec.channels;
  const batch = new Float32Array(inputs.length * size);
  for (let i = 0; i < inputs.length; i++) {
    const image = await preprocessImage(inputs[i], spec, options);
    batch.set(image.data, i * size);
  }
  return tf.tensor4d(batch, [inputs.length, spec.height, spec.width, spec.channels], 'float32');
}
