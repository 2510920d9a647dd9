import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels, withFloat64Scratch } from './simd';
import { withWasmOps } from './wasm-ops';

/**
 * Element-wise and reduction kernels for the wasm backend written as plain loops over the wasm heap,
 * for the patterns a conv net's training step is made of. tfjs-backend-wasm 4.22 runs them through
 * generic broadcasting loops (comparisons with a scalar and `Select`: 2-6 ns an element), transposes
 * the whole input before reducing over the outer axes (`Sum`/`Mean` over N,H,W of an NHWC activation:
 * the batch-norm moments and gradients), or copies (`Identity`). A V8-compiled loop over typed-array
 * views of the heap runs at memory speed instead. Every wrapper hands any other case (dtype, shape,
 * broadcast pattern) to the shipped kernel.
 */

type Wrapper = (shipped: tf.KernelFunc) => tf.KernelFunc;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Views must be taken after every allocation of the kernel: growing the heap detaches older views. */
function f32(be: BackendWasm, t: tf.TensorInfo): Float32Array {
  return be.typedArrayFromHeap(t) as Float32Array;
}
/** The float32 tensor's bits. */
function i32(be: BackendWasm, t: tf.TensorInfo): Int32Array {
  const v = f32(be, t);
  return new Int32Array(v.buffer, v.byteOffset, v.length);
}
function u8(be: BackendWasm, t: tf.TensorInfo): Uint8Array {
  return be.typedArrayFromHeap(t) as Uint8Array;
}

/** Identity without a copy: the output shares the input's buffer (reference-counted), as on `cpu`. */
export const sharingIdentity: Wrapper = (shipped) => (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return shipped(args);
  (args.backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/**
 * Cast to the tensor's own dtype (tf.moments casts to float32) shares the buffer, as on `cpu`. A cast
 * of numbers to bool is x != 0 (the shipped kernel truncates to a byte: 2, 254, ... for floats).
 */
export const sharingCast: Wrapper = (shipped) => (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
    const be = args.backend as BackendWasm;
    const out = be.makeOutput(x.shape, 'bool');
    const o = u8(be, out);
    const v = be.typedArrayFromHeap(x) as Float32Array | Int32Array;
    for (let i = 0; i < o.length; i++) o[i] = +(v[i] !== 0);
    return out;
  }
  if (x.dtype === 'string' || dtype !== x.dtype) return shipped(args);
  (args.backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

type Cmp = 'GreaterEqual' | 'LessEqual' | 'Greater' | 'Less';

/** Float comparisons of a tensor with a scalar or a same-shaped tensor (bool output). */
export function fastComparison(op: Cmp): Wrapper {
  return (shipped) => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return shipped(args);
    const scalar = size(b.shape) === 1 && b.shape.length <= a.shape.length;
    if (!scalar && !sameShape(a.shape, b.shape)) return shipped(args);
    const be = args.backend as BackendWasm;
    const out = be.makeOutput(a.shape, 'bool');
    const o = u8(be, out);
    const x = f32(be, a);
    const y = f32(be, b);
    const n = o.length;
    if (scalar) {
      const s = y[0];
      switch (op) {
        case 'GreaterEqual':
          for (let i = 0; i < n; i++) o[i] = +(x[i] >= s);
          break;
        case 'LessEqual':
          for (let i = 0; i < n; i++) o[i] = +(x[i] <= s);
          break;
        case 'Greater':
          for (let i = 0; i < n; i++) o[i] = +(x[i] > s);
          break;
        case 'Less':
          for (let i = 0; i < n; i++) o[i] = +(x[i] < s);
          break;
      }
    } else {
      switch (op) {
        case 'GreaterEqual':
          for (let i = 0; i < n; i++) o[i] = +(x[i] >= y[i]);
          break;
        case 'LessEqual':
          for (let i = 0; i < n; i++) o[i] = +(x[i] <= y[i]);
          break;
        case 'Greater':
          for (let i = 0; i < n; i++) o[i] = +(x[i] > y[i]);
          break;
        case 'Less':
          for (let i = 0; i < n; i++) o[i] = +(x[i] < y[i]);
          break;
      }
    }
    return out;
  };
}

/** LogicalAnd of two same-shaped bool tensors. */
export const fastLogicalAnd: Wrapper = (shipped) => (args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (a.dtype !== 'bool' || b.dtype !== 'bool' || !sameShape(a.shape, b.shape)) return shipped(args);
  const be = args.backend as BackendWasm;
  const out = be.makeOutput(a.shape, 'bool');
  const o = u8(be, out);
  const x = u8(be, a);
  const y = u8(be, b);
  // Bools are 0/1 here; & keeps it branchless (random masks defeat branch prediction).
  for (let i = 0; i < o.length; i++) o[i] = +((x[i] & y[i]) !== 0);
  return out;
};

/** Select (where) with condition, t and e all of one shape, float32 values. */
export const fastSelect: Wrapper = (shipped) => (args) => {
  const { condition, t, e } = args.inputs as Record<'condition' | 't' | 'e', tf.TensorInfo>;
  if (
    condition.dtype !== 'bool' ||
    t.dtype !== 'float32' ||
    e.dtype !== 'float32' ||
    !sameShape(condition.shape, t.shape) ||
    !sameShape(t.shape, e.shape)
  )
    return shipped(args);
  const be = args.backend as BackendWasm;
  const out = be.makeOutput(t.shape, 'float32');
  // Bitwise select on the float bits: exact, and branchless (a data-dependent branch per element
  // costs ~5 ns on random masks).
  const o = i32(be, out);
  const c = u8(be, condition);
  const tv = i32(be, t);
  const ev = i32(be, e);
  for (let i = 0; i < o.length; i++) {
    const m = -+(c[i] !== 0);
    o[i] = (tv[i] & m) | (ev[i] & ~m);
  }
  return out;
};

/**
 * Sum or Mean of a float32 tensor over its leading axes (0..k-1, k < rank): one pass, accumulating
 * per trailing index in float64: WebAssembly SIMD (kernels.wat), or a JS loop (~0.7-1 ns an element)
 * where the SIMD module cannot be instantiated; the shipped kernel transposes first (~1.6 ns).
 * An XNNPACK product with a row of ones is slower in a training step: it packs x as weights on every
 * call. Other axis sets go to the shipped kernel (which handles trailing axes without a transpose).
 */
export function leadingAxesReduction(kind: 'Sum' | 'Mean'): Wrapper {
  return (shipped) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank < 2) return shipped(args);
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const k = axes.length;
    if (k === 0 || k >= rank || axes.some((a, i) => a !== i)) return shipped(args);
    const rows = size(x.shape.slice(0, k));
    const inner = size(x.shape.slice(k));
    const be = args.backend as BackendWasm;
    const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const simd = simdKernels(be);
    if (simd) {
      const sums = withFloat64Scratch(be, inner, (acc) => simd.sumRows(heapOffset(be, x), acc, rows, inner));
      const out = be.makeOutput(outShape, 'float32');
      const o = f32(be, out);
      const scale = kind === 'Mean' ? 1 / rows : 1;
      for (let c = 0; c < inner; c++) o[c] = sums[c] * scale;
      return out;
    }
    const out = be.makeOutput(outShape, 'float32');
    const o = f32(be, out);
    const v = f32(be, x);
    const acc = new Float64Array(inner);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const b0 = r * inner;
      const b1 = b0 + inner;
      const b2 = b1 + inner;
      const b3 = b2 + inner;
      for (let c = 0; c < inner; c++) acc[c] += v[b0 + c] + v[b1 + c] + (v[b2 + c] + v[b3 + c]);
    }
    for (; r < rows; r++) {
      const base = r * inner;
      for (let c = 0; c < inner; c++) acc[c] += v[base + c];
    }
    const scale = kind === 'Mean' ? 1 / rows : 1;
    for (let c = 0; c < inner; c++) o[c] = acc[c] * scale;
    return out;
  };
}

/**
 * Slice of a float32 tensor as block copies: the trailing axes taken whole are copied as one
 * contiguous run per index of the leading ones.
 */
export const blockSlice: Wrapper = (shipped) => (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { begin, size: sizeAttr } = args.attrs as unknown as tf.SliceAttrs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return shipped(args);
  const [start, len] = tf.slice_util.parseSliceParams(x, begin, sizeAttr);
  const shape = x.shape;
  const rank = shape.length;
  // Axis k: the last one not taken whole; the run is len[k] * (trailing sizes).
  let k = rank - 1;
  while (k > 0 && start[k] === 0 && len[k] === shape[k]) k--;
  const strides = Array.from({ length: rank }, (_, i) => size(shape.slice(i + 1)));
  const run = len[k] * strides[k];
  const be = args.backend as BackendWasm;
  const out = be.makeOutput(len, 'float32');
  const total = size(len);
  if (total === 0) return out;
  const o = f32(be, out);
  const v = f32(be, x);
  const outer = size(len.slice(0, k));
  const idx = new Array<number>(k).fill(0);
  for (let r = 0; r < outer; r++) {
    let src = start[k] * strides[k];
    for (let i = 0; i < k; i++) src += (start[i] + idx[i]) * strides[i];
    o.set(v.subarray(src, src + run), r * run);
    for (let i = k - 1; i >= 0; i--) {
      if (++idx[i] < len[i]) break;
      idx[i] = 0;
    }
  }
  return out;
};

/**
 * FusedBatchNorm when every parameter is a vector over the last axis (or absent), as two broadcasting
 * XNNPACK passes: out = x * a + b with a = scale / sqrt(variance + eps), b = offset - mean * a (both
 * per channel, computed in float64). The shipped kernel runs at ~3 ns an element, this at ~0.5.
 */
export const channelBatchNorm: Wrapper = (shipped) => (args) => {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  if (!x || !mean || !variance || x.dtype !== 'float32' || x.shape.length === 0) return shipped(args);
  const c = x.shape[x.shape.length - 1];
  const params = [mean, variance, offset, scale];
  if (params.some((p) => p && (p.dtype !== 'float32' || p.shape.length !== 1 || p.shape[0] !== c)))
    return shipped(args);
  return withWasmOps(args.backend, (ops) => {
    const be = ops.backend;
    const aT = be.makeOutput([c], 'float32');
    const bT = be.makeOutput([c], 'float32');
    ops.adopt(aT);
    ops.adopt(bT);
    const m = f32(be, mean);
    const va = f32(be, variance);
    const off = offset ? f32(be, offset) : undefined;
    const sc = scale ? f32(be, scale) : undefined;
    const a = f32(be, aT);
    const b = f32(be, bT);
    for (let i = 0; i < c; i++) {
      const inv = (sc ? sc[i] : 1) / Math.sqrt(va[i] + varianceEpsilon);
      a[i] = inv;
      b[i] = (off ? off[i] : 0) - m[i] * inv;
    }
    return ops.run('Add', { a: ops.run('Multiply', { a: x, b: aT }), b: bT });
  });
};

/** Wrappers of shipped wasm kernels, by kernel name. */
export const HEAP_KERNEL_WRAPPERS: Readonly<Record<string, Wrapper>> = {
  Identity: sharingIdentity,
  Cast: sharingCast,
  GreaterEqual: fastComparison('GreaterEqual'),
  LessEqual: fastComparison('LessEqual'),
  Greater: fastComparison('Greater'),
  Less: fastComparison('Less'),
  LogicalAnd: fastLogicalAnd,
  Select: fastSelect,
  Sum: leadingAxesReduction('Sum'),
  Mean: leadingAxesReduction('Mean'),
  Slice: blockSlice,
  FusedBatchNorm: channelBatchNorm,
};
