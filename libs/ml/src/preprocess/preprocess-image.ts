import * as tf from '@tensorflow/tfjs';
import { decodeImage, type DecodedImage, type FitPolicy } from './decode-image';
import { normalizePixels, type Normalization } from './normalization';

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
}

export interface PreprocessedImage {
  /** Normalized HWC float32 values. */
  data: Float32Array;
  shape: [number, number, number];
  source: DecodedImage['source'];
}

export async function preprocessImage(
  input: Uint8Array,
  spec: ImageInputSpec,
  options: PreprocessOptions = {},
): Promise<PreprocessedImage> {
  const decoded = await decodeImage(input, {
    ...options,
    width: spec.width,
    height: spec.height,
    channels: spec.channels,
  });
  return {
    data: normalizePixels(decoded.pixels, decoded.channels, spec.normalization),
    shape: [decoded.height, decoded.width, decoded.channels],
    source: decoded.source,
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
