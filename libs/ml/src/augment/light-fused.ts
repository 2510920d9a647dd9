import type { Rng } from '../train/rng';

/**
 * The 'light' policy's ops (flip, resized crop, colour jitter: `randomHorizontalFlip`,
 * `randomResizedCrop` with scale [0.6, 1] and `colorJitter` at 0.2 of ops.ts, in that order, between
 * the normalization's unit affine map and its inverse) as two plain-JS passes per image over a batch
 * [n, h, w, c] of normalized values, instead of ~15 tensor ops over the whole batch (~80 ms for 64
 * images of 64x64x3 on the wasm backend, most of it broadcasting element-wise kernels). The draws
 * from `rng` are the ops' own, in their order, so the result is theirs (float32 rounding aside: the
 * arithmetic here is in double): a run's augmentation is the same function of (seed, epoch, step).
 */
export function lightAugmentFused(
  src: Float32Array,
  shape: readonly [number, number, number, number],
  scale: readonly number[],
  offset: readonly number[],
  rng: Rng,
): Float32Array {
  const [n, h, w, c] = shape;
  // The ops' draws, in their order: flips (n), crop boxes (4 per sample), brightness, contrast and
  // saturation factors (n each). Boxes and factors are float32 tensors in the ops.
  const flip = Array.from({ length: n }, () => rng.next() < 0.5);
  const boxes = new Float32Array(4 * n);
  const [sMin, sMax] = [0.6, 1];
  const [rMin, rMax] = [3 / 4, 4 / 3];
  for (let i = 0; i < n; i++) {
    const area = sMin + (sMax - sMin) * rng.next();
    const logR = Math.log(rMin) + (Math.log(rMax) - Math.log(rMin)) * rng.next();
    const r = Math.exp(logR);
    const bw = Math.min(1, Math.sqrt((area * r * h) / w));
    const bh = Math.min(1, area / bw);
    const y1 = (1 - bh) * rng.next();
    const x1 = (1 - bw) * rng.next();
    boxes.set([y1, x1, y1 + bh, x1 + bw], 4 * i);
  }
  const factor = () => Float32Array.from({ length: n }, () => 1 - 0.2 + 2 * 0.2 * rng.next());
  const bright = factor();
  const contrast = factor();
  const saturation = factor();

  const greyW = c === 3 ? [0.299, 0.587, 0.114] : Array.from({ length: c }, () => 1 / c);
  const out = new Float32Array(n * h * w * c);
  const sample = h * w * c;
  const img = new Float32Array(sample);
  const tmp = new Float32Array(sample);
  const left = new Int32Array(w);
  const right = new Int32Array(w);
  const xLerp = new Float64Array(w);
  const xOk = new Uint8Array(w);
  for (let i = 0; i < n; i++) {
    const base = i * sample;
    // Pass 0: the sample in [0, 1] (the normalization's unit map, clipped), flipped if drawn so.
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = base + (y * w + (flip[i] ? w - 1 - x : x)) * c;
        const to = (y * w + x) * c;
        for (let k = 0; k < c; k++) {
          const u = src[from + k] * scale[k] + offset[k];
          img[to + k] = u < 0 ? 0 : u > 1 ? 1 : u;
        }
      }
    }
    const y1 = boxes[4 * i];
    const x1 = boxes[4 * i + 1];
    const y2 = boxes[4 * i + 2];
    const x2 = boxes[4 * i + 3];
    const hs = h > 1 ? ((y2 - y1) * (h - 1)) / (h - 1) : 0;
    const ws = w > 1 ? ((x2 - x1) * (w - 1)) / (w - 1) : 0;
    for (let x = 0; x < w; x++) {
      const xIn = w > 1 ? x1 * (w - 1) + x * ws : 0.5 * (x1 + x2) * (w - 1);
      xOk[x] = xIn >= 0 && xIn <= w - 1 ? 1 : 0;
      left[x] = Math.floor(xIn);
      right[x] = Math.ceil(xIn);
      xLerp[x] = xIn - left[x];
    }
    const b = bright[i];
    let greySum = 0;
    // Pass 1: the bilinear crop (0 outside the image), then brightness; the grey mean for contrast.
    for (let y = 0; y < h; y++) {
      const yIn = h > 1 ? y1 * (h - 1) + y * hs : 0.5 * (y1 + y2) * (h - 1);
      const inY = yIn >= 0 && yIn <= h - 1;
      const top = Math.floor(yIn) * w;
      const bottom = Math.ceil(yIn) * w;
      const yLerp = yIn - Math.floor(yIn);
      for (let x = 0; x < w; x++) {
        const at = (y * w + x) * c;
        if (!inY || !xOk[x]) {
          for (let k = 0; k < c; k++) tmp[at + k] = 0;
          continue;
        }
        const tl = (top + left[x]) * c;
        const tr = (top + right[x]) * c;
        const bl = (bottom + left[x]) * c;
        const br = (bottom + right[x]) * c;
        const xl = xLerp[x];
        for (let k = 0; k < c; k++) {
          const t = img[tl + k] + (img[tr + k] - img[tl + k]) * xl;
          const bo = img[bl + k] + (img[br + k] - img[bl + k]) * xl;
          const v = (t + (bo - t) * yLerp) * b;
          const cl = v < 0 ? 0 : v > 1 ? 1 : v;
          tmp[at + k] = cl;
          greySum += cl * greyW[k];
        }
      }
    }
    // Pass 2: contrast around the mean grey, saturation around each pixel's grey (colour images),
    // back to the normalization.
    const meanGrey = greySum / (h * w);
    const ct = contrast[i];
    const st = saturation[i];
    const pixels = h * w;
    if (c === 3) {
      const [g0, g1, g2] = greyW;
      for (let p = 0; p < pixels; p++) {
        const at = p * 3;
        let r = meanGrey + (tmp[at] - meanGrey) * ct;
        let gr = meanGrey + (tmp[at + 1] - meanGrey) * ct;
        let bl = meanGrey + (tmp[at + 2] - meanGrey) * ct;
        r = r < 0 ? 0 : r > 1 ? 1 : r;
        gr = gr < 0 ? 0 : gr > 1 ? 1 : gr;
        bl = bl < 0 ? 0 : bl > 1 ? 1 : bl;
        const g = r * g0 + gr * g1 + bl * g2;
        r = g + (r - g) * st;
        gr = g + (gr - g) * st;
        bl = g + (bl - g) * st;
        out[base + at] = ((r < 0 ? 0 : r > 1 ? 1 : r) - offset[0]) / scale[0];
        out[base + at + 1] = ((gr < 0 ? 0 : gr > 1 ? 1 : gr) - offset[1]) / scale[1];
        out[base + at + 2] = ((bl < 0 ? 0 : bl > 1 ? 1 : bl) - offset[2]) / scale[2];
      }
    } else {
      for (let p = 0; p < pixels; p++) {
        const at = p * c;
        for (let k = 0; k < c; k++) {
          const v = meanGrey + (tmp[at + k] - meanGrey) * ct;
          out[base + at + k] = ((v < 0 ? 0 : v > 1 ? 1 : v) - offset[k]) / scale[k];
        }
      }
    }
  }
  return out;
}
