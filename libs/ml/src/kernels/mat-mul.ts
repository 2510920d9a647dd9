import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeBlas, wasmHeap } from './native-blas';
import { heapOffset } from './simd';
import { type WasmOps, withWasmOps } from './wasm-ops';

/**
 * tfjs-backend-wasm's matmul kernels take XNNPACK's path only when neither operand is transposed; with
 * transposeA/transposeB (as in every dense layer's gradients) they fall back to a loop 10-40x slower.
 * Also, XNNPACK packs the right-hand operand on every call with fresh weights (always, in training),
 * and that packing costs about as much as the multiply for a tall operand. So:
 * - transposeA: transpose `a` explicitly (a cheap XNNPACK transpose) and multiply;
 * - transposeB: a·bᵀ = (b·aᵀ)ᵀ when `a` is the smaller operand (the dense layer's dx = dy·Wᵀ packs dyᵀ
 *   instead of Wᵀ), otherwise transpose `b` explicitly.
 * The shipped _FusedMatMul also adds the bias wrongly when the batch dimension is > 1; such calls are
 * computed unfused (matmul, Add, activation kernel).
 * With the native addon (native-blas.ts) every float32 product runs as OpenBLAS sgemm calls on the
 * operands in place, transposes included (no copies); bias and activation then run as wasm kernels.
 */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

const size = (t: tf.TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

function activate(
  ops: WasmOps,
  x: tf.TensorInfo,
  attrs: tf.NamedAttrMap,
  prelu?: tf.TensorInfo,
): tf.TensorInfo {
  const activation = attrs.activation as string | undefined;
  switch (activation) {
    case undefined:
    case 'linear':
      return x;
    case 'relu':
      return ops.run('Relu', { x });
    case 'relu6':
      return ops.run('Relu6', { x });
    case 'elu':
      return ops.run('Elu', { x });
    case 'sigmoid':
      return ops.run('Sigmoid', { x });
    case 'leakyrelu':
      return ops.run('LeakyRelu', { x }, { alpha: attrs.leakyreluAlpha });
    case 'prelu':
      if (!prelu) throw new Error('prelu activation needs preluActivationWeights');
      return ops.run('Prelu', { x, alpha: prelu });
    default:
      throw new Error(`unsupported fused activation ${activation}`);
  }
}

/** The fused matmul's bias and activation, as wasm kernels on a computed product. */
function epilogue(
  ops: WasmOps,
  product: tf.TensorInfo,
  attrs: tf.NamedAttrMap | undefined,
  bias?: tf.TensorInfo,
  prelu?: tf.TensorInfo,
): tf.TensorInfo {
  return activate(ops, bias ? ops.run('Add', { a: product, b: bias }) : product, attrs ?? {}, prelu);
}

/**
 * a·b of float32 operands of rank >= 2 ([...batch, rows, cols], transposes as flagged; the batch dims
 * equal, or one side without any) on the native addon, one sgemm per batch entry, into a new tensor
 * shaped as the shipped kernel shapes it; null without the addon or for other operands.
 */
function nativeBatchMatMul(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo | null {
  const blas = nativeBlas(backend);
  if (!blas || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [leadA, leadB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const [ba, bb] = [tf.util.sizeFromShape(leadA), tf.util.sizeFromShape(leadB)];
  if (!tf.util.arraysEqual(leadA, leadB) && ba !== 1 && bb !== 1) return null;
  const [m, k] = transposeA ? [ca, ra] : [ra, ca];
  const [k2, n] = transposeB ? [cb, rb] : [rb, cb];
  if (k !== k2) return null;
  const lead = tf.backend_util.assertAndGetBroadcastShape(leadA, leadB);
  const batch = tf.util.sizeFromShape(lead);
  const out = backend.makeOutput([...lead, m, n], 'float32');
  if (batch * m * n === 0) return out;
  if (k === 0) {
    (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const [pa, pb, pc] = [heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out)];
  for (let i = 0; i < batch; i++) {
    const oa = pa + (ba === 1 ? 0 : i * ra * ca * 4);
    const ob = pb + (bb === 1 ? 0 : i * rb * cb * 4);
    const oc = pc + i * m * n * 4;
    blas.sgemm(wasmHeap(backend), transposeA, transposeB, m, n, k, 1, oa, ca, ob, cb, 0, oc, n);
  }
  return out;
}

export function untransposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const flags = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const {
      a: a0,
      b: b0,
      bias: bias0,
      preluActivationWeights: prelu0,
    } = inputs as Record<string, tf.TensorInfo | undefined>;
    const native = nativeBatchMatMul(backend as BackendWasm, a0!, b0!, flags.transposeA, flags.transposeB);
    if (native) {
      if (!bias0 && !prelu0 && !(attrs as { activation?: string }).activation) return native;
      return withWasmOps(backend, (ops) => epilogue(ops, ops.adopt(native), attrs, bias0, prelu0));
    }
    const batched = Math.max(a0!.shape[0], b0!.shape[0]) > 1 && a0!.shape.length > 2;
    if (batched && (bias0 || prelu0)) {
      return withWasmOps(backend, (ops) => {
        const product = ops.run(
          'BatchMatMul',
          { a: a0!, b: b0! },
          { transposeA: flags.transposeA, transposeB: flags.transposeB },
        );
        return epilogue(ops, product, attrs, bias0, prelu0);
      });
    }
    if (!flags.transposeA && !flags.transposeB) return original({ inputs, backend, attrs });
    return withWasmOps(backend, (ops) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const plain = { ...attrs, transposeA: false, transposeB: false };
      const multiply = (lhs: tf.TensorInfo, rhs: tf.TensorInfo) =>
        ops.adopt(
          original({ inputs: { ...inputs, a: lhs, b: rhs }, backend, attrs: plain }) as tf.TensorInfo,
        );
      const t = (x: tf.TensorInfo) => ops.transpose(x, swapLastTwo(x.shape.length));
      const { bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
      const { activation } = attrs as { activation?: string };
      const simple = !bias && !preluActivationWeights && (activation == null || activation === 'linear');
      if (!flags.transposeA && simple && size(a) < size(b) && a.shape.length === b.shape.length) {
        return t(multiply(b, t(a)));
      }
      return multiply(flags.transposeA ? t(a) : a, flags.transposeB ? t(b) : b);
    });
  };
}
