import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels, withFloat64Scratch } from './simd';

/** Kernel of ours (wasm only): per-channel sums of dy and dy·(x - mean), as a [2, C] tensor. */
export const BN_GRAD_SUMS_KERNEL = 'ModelsmithBatchNormGradSums';

/**
 * Σdy and Σdy·(x - mean) over every axis but the last (mean: one value per channel), float64
 * accumulators, one pass over both tensors.
 */
export const batchNormGradSumsWasm: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, x, mean } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo };
  const be = backend as BackendWasm;
  const c = x.shape[x.shape.length - 1];
  const simd = simdKernels(be);
  if (simd) {
    const rows = tf.util.sizeFromShape(x.shape) / c;
    const at = (t: tf.TensorInfo) => heapOffset(be, t);
    const sums = withFloat64Scratch(be, 2 * c, (s) =>
      simd.bnSums(at(dy), at(x), at(mean), s, s + 8 * c, rows, c),
    );
    const out = be.makeOutput([2, c], 'float32');
    (be.typedArrayFromHeap(out) as Float32Array).set(sums);
    return out;
  }
  const out = be.makeOutput([2, c], 'float32');
  const g = be.typedArrayFromHeap(dy) as Float32Array;
  const v = be.typedArrayFromHeap(x) as Float32Array;
  const o = be.typedArrayFromHeap(out) as Float32Array;
  const m = Float64Array.from(be.typedArrayFromHeap(mean) as Float32Array);
  const sumDy = new Float64Array(c);
  const sumDyX = new Float64Array(c);
  // Views are taken after the output's allocation (growing the heap detaches older views).
  // Four rows at a time: a quarter of the accumulator traffic.
  const rows = g.length / c;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const b0 = r * c;
    const b1 = b0 + c;
    const b2 = b1 + c;
    const b3 = b2 + c;
    for (let i = 0; i < c; i++) {
      const mi = m[i];
      const d0 = g[b0 + i];
      const d1 = g[b1 + i];
      const d2 = g[b2 + i];
      const d3 = g[b3 + i];
      sumDy[i] += d0 + d1 + (d2 + d3);
      sumDyX[i] +=
        d0 * (v[b0 + i] - mi) + d1 * (v[b1 + i] - mi) + (d2 * (v[b2 + i] - mi) + d3 * (v[b3 + i] - mi));
    }
  }
  for (; r < rows; r++) {
    const base = r * c;
    for (let i = 0; i < c; i++) {
      const d = g[base + i];
      sumDy[i] += d;
      sumDyX[i] += d * (v[base + i] - m[i]);
    }
  }
  for (let i = 0; i < c; i++) {
    o[i] = sumDy[i];
    o[c + i] = sumDyX[i];
  }
  return out;
};

let ours: tf.GradConfig | undefined;

/**
 * The gradient of FusedBatchNorm (per-channel statistics, as every batch-norm layer over NHWC has)
 * from two per-channel sums. tfjs's gradient makes ~13 passes over the activation (sub, several
 * multiplies, tile, four reductions); with S1 = Σdy, S2 = Σdy·(x - mean), inv = 1/sqrt(var + eps):
 *   dx = dy·(scale·inv)     dmean = -scale·inv·S1     doffset = S1
 *   dscale = inv·S2         dvariance = -0.5·scale·inv³·S2
 * one fused pass for S1, S2 and one broadcasting multiply for dx. Used when the wasm backend is active
 * and the shapes are the per-channel ones; tfjs's own gradient otherwise. Idempotent.
 */
export function registerBatchNormGradient(): void {
  if (!tf.getKernel(BN_GRAD_SUMS_KERNEL, 'wasm'))
    tf.registerKernel({
      kernelName: BN_GRAD_SUMS_KERNEL,
      backendName: 'wasm',
      kernelFunc: batchNormGradSumsWasm,
    });
  const current = tf.getGradient('FusedBatchNorm');
  if (!current || current === ours) return;
  const shipped = current;
  ours = {
    ...shipped,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as (tf.Tensor | undefined)[];
      const g = dy as tf.Tensor;
      const c = x ? x.shape[x.shape.length - 1] : 0;
      const vector = (t: tf.Tensor | undefined) =>
        t && t.dtype === 'float32' && t.rank === 1 && t.shape[0] === c;
      const plain =
        tf.getBackend() === 'wasm' &&
        x !== undefined &&
        x.dtype === 'float32' &&
        g.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, g.shape) &&
        vector(mean) &&
        vector(variance) &&
        (scale === undefined || vector(scale));
      if (!plain || !x || !mean || !variance) return shipped.gradFunc(dy, saved, attrs);
      const eps = (attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon;
      const va = variance.dataSync<'float32'>();
      const sc = scale?.dataSync<'float32'>();
      const inv = Float64Array.from(va, (v) => 1 / Math.sqrt(v + eps));
      const gamma = (i: number) => (sc ? sc[i] : 1);
      let sums: Float32Array | undefined;
      const S = () => {
        if (!sums) {
          const t = tf.engine().runKernel<tf.Tensor>(BN_GRAD_SUMS_KERNEL, { dy: g, x, mean });
          sums = t.dataSync<'float32'>().slice();
          t.dispose();
        }
        return sums;
      };
      const perChannel = (f: (i: number, s1: number, s2: number) => number) => () => {
        const s = S();
        return tf.tensor1d(Float32Array.from({ length: c }, (_, i) => f(i, s[i], s[c + i])));
      };
      return {
        x: () => tf.mul(g, tf.tensor1d(Float32Array.from({ length: c }, (_, i) => gamma(i) * inv[i]))),
        mean: perChannel((i, s1) => -gamma(i) * inv[i] * s1),
        variance: perChannel((i, _, s2) => -0.5 * gamma(i) * inv[i] ** 3 * s2),
        scale: perChannel((i, _, s2) => inv[i] * s2),
        offset: perChannel((_, s1) => s1),
      };
    },
  };
  tf.registerGradient(ours);
}
