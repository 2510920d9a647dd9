/**
 * Bilinear resize of one interleaved (HWC) image, with the semantics of TensorFlow.js's
 * `tf.image.resizeBilinear(x, size)` at its defaults (alignCorners = false, halfPixelCenters =
 * false): output pixel (r, c) samples the source at (r * inH / outH, c * inW / outW), edges clamped.
 * Training resizes a cached dataset with that op (apps/worker shard-batches); serving and batch
 * prediction resize one request's image with this loop instead, because the op costs 10-25 ms per
 * 128 px image on the pure-JS `cpu` backend of a request thread (tensor set-up and kernel dispatch),
 * against well under a millisecond here. `resize-bilinear.spec.ts` checks it against the op.
 */
export function resizeBilinearHwc(
  src: ArrayLike<number>,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  if (src.length !== inH * inW * channels)
    throw new RangeError(
      `expected ${inH * inW * channels} values for ${inH}x${inW}x${channels}, got ${src.length}`,
    );
  const out = new Float32Array(outH * outW * channels);
  const rowRatio = inH / outH;
  const colRatio = inW / outW;
  // Per output column: the two source columns' offsets and the weight between them.
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const colFrac = new Float32Array(outW);
  for (let c = 0; c < outW; c++) {
    const f = colRatio * c;
    const lo = Math.max(0, Math.floor(f));
    left[c] = lo * channels;
    right[c] = Math.min(inW - 1, Math.ceil(f)) * channels;
    colFrac[c] = f - lo;
  }
  const rowStride = inW * channels;
  let o = 0;
  for (let r = 0; r < outH; r++) {
    const f = rowRatio * r;
    const lo = Math.max(0, Math.floor(f));
    const rowFrac = f - lo;
    const top = lo * rowStride;
    const bottom = Math.min(inH - 1, Math.ceil(f)) * rowStride;
    for (let c = 0; c < outW; c++) {
      const wc = colFrac[c];
      const tl = top + left[c];
      const tr = top + right[c];
      const bl = bottom + left[c];
      const br = bottom + right[c];
      for (let d = 0; d < channels; d++) {
        const t = src[tl + d] + (src[tr + d] - src[tl + d]) * wc;
        const b = src[bl + d] + (src[br + d] - src[bl + d]) * wc;
        out[o++] = t + (b - t) * rowFrac;
      }
    }
  }
  return out;
}
