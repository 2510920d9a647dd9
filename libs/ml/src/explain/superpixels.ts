import type { ModelImage } from './types';

/** A segmentation: one segment id per pixel (row-major), ids 0..count-1, every id used. */
export interface Segmentation {
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

/** Rectangular cells: rows x cols (cells at the edges take the remainder). */
export function gridSegments(height: number, width: number, rows: number, cols: number): Segmentation {
  const r = Math.max(1, Math.min(rows, height));
  const c = Math.max(1, Math.min(cols, width));
  const labels = new Int32Array(height * width);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(r - 1, Math.floor((y * r) / height));
    for (let x = 0; x < width; x++)
      labels[y * width + x] = cy * c + Math.min(c - 1, Math.floor((x * c) / width));
  }
  return { labels, count: r * c, height, width };
}

export interface SlicOptions {
  /** Approximate number of superpixels. Default 50. */
  segments?: number;
  /** Weight of spatial distance against value distance (larger: squarer segments). Default 10. */
  compactness?: number;
  /** Assignment/update rounds. Default 8. */
  iterations?: number;
}

/**
 * SLIC superpixels (Achanta et al. 2012) on the model-input values (not CIELAB): k-means over
 * (values, y, x) with each center searching a 2S x 2S window, S = sqrt(pixels / segments), distance
 * d_values² + (d_xy / S)² · m² with the values scaled to [0, 255] as in the paper. Connectivity is not
 * enforced; segments that end empty are dropped and the ids made dense.
 */
export function slicSegments(image: ModelImage, options: SlicOptions = {}): Segmentation {
  const [height, width, channels] = image.shape;
  const n = height * width;
  const k = Math.max(1, Math.min(options.segments ?? 50, n));
  const m = options.compactness ?? 10;
  const iterations = options.iterations ?? 8;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = 255 / Math.max(hi - lo, 1e-6);
  const value = (p: number, ch: number) => (image.data[p * channels + ch] - lo) * scale;
  const step = Math.max(1, Math.sqrt(n / k));
  const centers: number[][] = []; // [y, x, v0..]
  for (let y = step / 2; y < height; y += step)
    for (let x = step / 2; x < width; x += step) {
      const p = Math.floor(y) * width + Math.floor(x);
      centers.push([
        Math.floor(y),
        Math.floor(x),
        ...Array.from({ length: channels }, (_, ch) => value(p, ch)),
      ]);
    }
  const labels = new Int32Array(n).fill(-1);
  const best = new Float64Array(n);
  const spatial = (m / step) ** 2;
  for (let it = 0; it < iterations; it++) {
    best.fill(Infinity);
    centers.forEach((center, ci) => {
      const [cy, cx] = center;
      const y0 = Math.max(0, Math.floor(cy - step));
      const y1 = Math.min(height - 1, Math.ceil(cy + step));
      const x0 = Math.max(0, Math.floor(cx - step));
      const x1 = Math.min(width - 1, Math.ceil(cx + step));
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const p = y * width + x;
          let d = ((y - cy) ** 2 + (x - cx) ** 2) * spatial;
          for (let ch = 0; ch < channels; ch++) d += (value(p, ch) - center[2 + ch]) ** 2;
          if (d < best[p]) {
            best[p] = d;
            labels[p] = ci;
          }
        }
    });
    const sums = centers.map(() => new Float64Array(3 + channels));
    for (let p = 0; p < n; p++) {
      const ci = labels[p];
      if (ci < 0) continue;
      const s = sums[ci];
      s[0] += Math.floor(p / width);
      s[1] += p % width;
      for (let ch = 0; ch < channels; ch++) s[2 + ch] += value(p, ch);
      s[2 + channels] += 1;
    }
    sums.forEach((s, ci) => {
      const count = s[2 + channels];
      if (count > 0) for (let j = 0; j < 2 + channels; j++) centers[ci][j] = s[j] / count;
    });
  }
  // A pixel no window reached (possible at the edges of uneven grids) joins its left/upper neighbour.
  for (let p = 0; p < n; p++) if (labels[p] < 0) labels[p] = p > 0 ? labels[p - 1] : 0;
  const dense = new Map<number, number>();
  for (let p = 0; p < n; p++) {
    let id = dense.get(labels[p]);
    if (id === undefined) {
      id = dense.size;
      dense.set(labels[p], id);
    }
    labels[p] = id;
  }
  return { labels, count: dense.size, height, width };
}
