import * as tf from '@tensorflow/tfjs';
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

export function untransposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const flags = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const {
      a: a0,
      b: b0,
      bias: bias0,
      preluActivationWeights: prelu0,
    } = inputs as Record<string, tf.TensorInfo | undefined>;
    const batched = Math.max(a0!.shape[0], b0!.shape[0]) > 1 && a0!.shape.length > 2;
    if (batched && (bias0 || prelu0)) {
      return withWasmOps(backend, (ops) => {
        const product = ops.run(
          'BatchMatMul',
          { a: a0!, b: b0! },
          { transposeA: flags.transposeA, transposeB: flags.transposeB },
        );
        const biased = bias0 ? ops.run('Add', { a: product, b: bias0 }) : product;
        return activate(ops, biased, attrs ?? {}, prelu0);
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
