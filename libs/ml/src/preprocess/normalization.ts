import { z } from 'zod';

/**
 * How 0..255 pixel values become model inputs:
 * - `unit`: v / 255, in [0, 1] (the nsfwjs backbones were trained this way);
 * - `symmetric`: v / 127.5 - 1, in [-1, 1] (Keras `mobilenet_v2.preprocess_input`);
 * - `meanStd`: (v / 255 - mean[c]) / std[c] per channel (torchvision-style ImageNet statistics);
 * - `raw`: v unchanged, in [0, 255].
 */
export const normalizationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('unit') }),
  z.object({ kind: z.literal('symmetric') }),
  z.object({
    kind: z.literal('meanStd'),
    mean: z.array(z.number().finite()).min(1).max(4),
    std: z.array(z.number().finite().positive()).min(1).max(4),
  }),
  z.object({ kind: z.literal('raw') }),
]);

export type Normalization = z.infer<typeof normalizationSchema>;

/** ImageNet channel statistics (RGB), for `meanStd` normalization. */
export const IMAGENET_MEAN_STD: Normalization = {
  kind: 'meanStd',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/**
 * Converts interleaved (HWC) 8-bit pixels to normalized float32 values.
 * For `meanStd`, mean/std must have one entry per channel or a single entry for all channels.
 */
export function normalizePixels(
  pixels: Uint8Array,
  channels: number,
  normalization: Normalization,
): Float32Array {
  const out = new Float32Array(pixels.length);
  switch (normalization.kind) {
    case 'unit':
      for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
      return out;
    case 'symmetric':
      for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 127.5 - 1;
      return out;
    case 'raw':
      for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]!;
      return out;
    case 'meanStd': {
      const mean = perChannel(normalization.mean, channels, 'mean');
      const std = perChannel(normalization.std, channels, 'std');
      for (let i = 0; i < pixels.length; i++) {
        const c = i % channels;
        out[i] = (pixels[i] / 255 - mean[c]) / std[c];
      }
      return out;
    }
  }
}

function perChannel(values: number[], channels: number, what: string): number[] {
  if (values.length === channels) return values;
  if (values.length === 1) return Array.from({ length: channels }, () => values[0]);
  if (channels === 1) return [values.reduce((sum, v) => sum + v, 0) / values.length];
  throw new RangeError(`normalization ${what} has ${values.length} entries for ${channels} channels`);
}
