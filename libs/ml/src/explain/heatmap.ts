import sharp from 'sharp';

/** A heatmap averaged over a rows x cols grid of cells (row-major), for a compact JSON answer. */
export function downsampleHeatmap(
  heatmap: Float32Array,
  height: number,
  width: number,
  rows: number,
  cols: number,
): number[][] {
  const r = Math.max(1, Math.min(rows, height));
  const c = Math.max(1, Math.min(cols, width));
  const sums = new Float64Array(r * c);
  const counts = new Float64Array(r * c);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(r - 1, Math.floor((y * r) / height));
    for (let x = 0; x < width; x++) {
      const cell = cy * c + Math.min(c - 1, Math.floor((x * c) / width));
      sums[cell] += heatmap[y * width + x];
      counts[cell] += 1;
    }
  }
  return Array.from({ length: r }, (_, y) =>
    Array.from({ length: c }, (_, x) => sums[y * c + x] / counts[y * c + x]),
  );
}

/** Positive part scaled to [0, 1] by its maximum (negative evidence shows as 0). */
export function normalizeHeatmap(heatmap: Float32Array): Float32Array {
  let max = 0;
  for (const v of heatmap) if (v > max) max = v;
  const out = new Float32Array(heatmap.length);
  if (max > 0) for (let i = 0; i < out.length; i++) out[i] = Math.max(0, heatmap[i]) / max;
  return out;
}

/** A 'jet'-like colour ramp: 0 blue, 0.5 green/yellow, 1 red. */
function ramp(t: number): [number, number, number] {
  const clamp = (v: number) => Math.max(0, Math.min(1, v));
  return [
    clamp(1.5 - Math.abs(4 * t - 3)),
    clamp(1.5 - Math.abs(4 * t - 2)),
    clamp(1.5 - Math.abs(4 * t - 1)),
  ];
}

export interface OverlayOptions {
  /** Opacity of the heatmap at its maximum. Default 0.6. */
  alpha?: number;
  /** Output size (the heatmap is resized with bilinear interpolation). Default: the heatmap's size. */
  size?: { width: number; height: number };
}

/**
 * A PNG of the heatmap (positive part, colour ramp) blended over the image: `rgb` holds the image's
 * 8-bit RGB (or grey) pixels at the heatmap's size; the heatmap's opacity grows with its value.
 */
export async function heatmapOverlayPng(
  pixels: Uint8Array,
  channels: 1 | 3,
  heatmap: Float32Array,
  height: number,
  width: number,
  options: OverlayOptions = {},
): Promise<Buffer> {
  const alpha = options.alpha ?? 0.6;
  const scaled = normalizeHeatmap(heatmap);
  const out = Buffer.alloc(height * width * 3);
  for (let p = 0; p < height * width; p++) {
    const a = alpha * scaled[p];
    const [r, g, b] = ramp(scaled[p]);
    const base =
      channels === 3
        ? [pixels[p * 3], pixels[p * 3 + 1], pixels[p * 3 + 2]]
        : [pixels[p], pixels[p], pixels[p]];
    out[p * 3] = Math.round(base[0] * (1 - a) + 255 * r * a);
    out[p * 3 + 1] = Math.round(base[1] * (1 - a) + 255 * g * a);
    out[p * 3 + 2] = Math.round(base[2] * (1 - a) + 255 * b * a);
  }
  let img = sharp(out, { raw: { width, height, channels: 3 } });
  if (options.size && (options.size.width !== width || options.size.height !== height))
    img = img.resize(options.size.width, options.size.height, { kernel: 'linear', fit: 'fill' });
  return img.png().toBuffer();
}
