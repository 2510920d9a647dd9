import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { useSimdKernels } from './simd';
import { prng, randInt, randValues, relError, runKernelOn } from './test-utils';

type Input = { shape: number[]; values: Float32Array };

/** runKernelOn takes float values; this builds bool/other-dtype inputs inside the kernel call instead. */
function runOn(
  backend: 'wasm' | 'cpu',
  kernel: string,
  inputs: Record<string, Input & { dtype?: 'bool' | 'float32' | 'int32' }>,
  attrs: Record<string, unknown>,
) {
  const previous = tf.getBackend();
  void tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const ins = Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape).cast(v.dtype ?? 'float32')]),
      );
      const out = tf.engine().runKernel<tf.Tensor>(kernel, ins, attrs as tf.NamedAttrMap);
      return { shape: out.shape, dtype: out.dtype, values: Float32Array.from(out.dataSync()) };
    });
  } finally {
    void tf.setBackend(previous);
  }
}

function randShape(rand: () => number, minRank = 1, maxRank = 5): number[] {
  const rank = randInt(rand, minRank, maxRank);
  return Array.from({ length: rank }, () => randInt(rand, 1, 6));
}

/** Values with ties and special values, so comparisons and selections hit every branch. */
function edgyValues(rand: () => number, shape: number[]): Float32Array {
  const v = randValues(rand, shape);
  const specials = [0, -0, 0.5, -0.5, 1, NaN, Infinity, -Infinity];
  for (let i = 0; i < v.length; i++) if (rand() < 0.3) v[i] = specials[randInt(rand, 0, specials.length - 1)];
  return v;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const bitsEqual = (a: Float32Array, b: Float32Array) => a.length === b.length && bytes(a).equals(bytes(b));

describe('wasm heap kernels (element-wise, reductions, slice, batch norm)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  afterEach(() => useSimdKernels(true));

  it.each(['GreaterEqual', 'LessEqual', 'Greater', 'Less'])(
    '%s equals cpu against a scalar, a same-shaped tensor and a broadcast one',
    (kernel) => {
      const rand = prng(kernel.length * 31);
      for (let trial = 0; trial < 60; trial++) {
        const shape = randShape(rand, 0);
        const mode = trial % 3;
        const bShape = mode === 0 ? [] : mode === 1 ? shape : shape.slice(-1);
        const a = { shape, values: edgyValues(rand, shape) };
        const b = { shape: bShape, values: edgyValues(rand, bShape) };
        const want = runOn('cpu', kernel, { a, b }, {});
        const got = runOn('wasm', kernel, { a, b }, {});
        const ctx = JSON.stringify({ shape, bShape });
        expect({ ctx, shape: got.shape, dtype: got.dtype }).toEqual({
          ctx,
          shape: want.shape,
          dtype: 'bool',
        });
        expect({ ctx, values: Array.from(got.values) }).toEqual({ ctx, values: Array.from(want.values) });
      }
    },
  );

  it('LogicalAnd and Select equal cpu bit for bit (including NaN, infinities and -0)', () => {
    const rand = prng(5);
    for (let trial = 0; trial < 60; trial++) {
      const shape = randShape(rand, 0);
      const mask = () => ({
        shape,
        values: Float32Array.from(randValues(rand, shape), (v) => (v > 0 ? 1 : 0)),
        dtype: 'bool' as const,
      });
      const [a, b] = [mask(), mask()];
      const and = runOn('wasm', 'LogicalAnd', { a, b }, {});
      expect(and).toEqual(runOn('cpu', 'LogicalAnd', { a, b }, {}));
      const t = { shape, values: edgyValues(rand, shape) };
      const e = { shape, values: edgyValues(rand, shape) };
      const want = runOn('cpu', 'Select', { condition: a, t, e }, {});
      const got = runOn('wasm', 'Select', { condition: a, t, e }, {});
      expect(got.shape).toEqual(want.shape);
      expect({ shape, equal: bitsEqual(got.values, want.values) }).toEqual({ shape, equal: true });
    }
  });

  it.each([
    ['Sum', true],
    ['Mean', true],
    ['Sum', false],
    ['Mean', false],
  ] as const)('%s equals cpu over random axis sets, with and without keepDims (SIMD %s)', (kernel, simd) => {
    useSimdKernels(simd);
    const rand = prng(kernel === 'Sum' ? 41 : 43);
    for (let trial = 0; trial < 80; trial++) {
      const shape = randShape(rand, 1, 5);
      // Half the trials reduce leading axes (the fast path), half any non-empty subset.
      const axes =
        trial % 2 === 0
          ? Array.from({ length: randInt(rand, 1, shape.length) }, (_, i) => i)
          : shape.map((_, i) => i).filter(() => rand() < 0.5);
      if (axes.length === 0) axes.push(shape.length - 1);
      const keepDims = rand() < 0.5;
      const x = { shape, values: randValues(rand, shape) };
      const want = runKernelOn('cpu', kernel, { x }, { axis: axes, keepDims });
      const got = runKernelOn('wasm', kernel, { x }, { axis: axes, keepDims });
      const ctx = JSON.stringify({ shape, axes, keepDims });
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: want.shape });
      expect({ ctx, ok: relError(got.values, want.values) < 1e-5 }).toEqual({ ctx, ok: true });
    }
  });

  it.each([true, false])(
    'Sum over the leading axes of a MobileNetV2-sized activation stays within the kernel tolerance (SIMD %s)',
    (simd) => {
      useSimdKernels(simd);
      const rand = prng(3);
      // 100,352 positive rows per channel (a batch-8 112x112 layer; variance sums are positive).
      const shape = [8, 112, 112, 4];
      const x = { shape, values: randValues(rand, shape).map((v) => v + 3) };
      const want = runKernelOn('cpu', 'Sum', { x }, { axis: [0, 1, 2], keepDims: false });
      const got = runKernelOn('wasm', 'Sum', { x }, { axis: [0, 1, 2], keepDims: false });
      expect(relError(got.values, want.values)).toBeLessThan(1e-4);
    },
  );

  it('Sum/Mean leave a live input intact and free their scratch', () => {
    void tf.setBackend('wasm');
    const backend = tf.backend();
    const x = tf.randomUniform([64, 64, 64, 8], -1, 1, 'float32', 5);
    const before = x.dataSync<'float32'>().slice();
    const ids = backend.numDataIds();
    for (let i = 0; i < 6; i++) tf.tidy(() => (i % 2 ? tf.sum(x, [0, 1, 2]) : tf.mean(x, [0, 1])).dataSync());
    expect(backend.numDataIds()).toBe(ids);
    expect(bitsEqual(x.dataSync<'float32'>(), before)).toBe(true);
    x.dispose();
  });

  it('Slice equals cpu bit for bit on random begins and sizes of ranks 1-5', () => {
    const rand = prng(23);
    for (let trial = 0; trial < 80; trial++) {
      const shape = randShape(rand, 1, 5);
      const begin = shape.map((d) => randInt(rand, 0, d - 1));
      // -1 means "to the end" in tfjs.
      const size = shape.map((d, i) => (rand() < 0.2 ? -1 : randInt(rand, 0, d - begin[i])));
      const x = { shape, values: edgyValues(rand, shape) };
      const want = runKernelOn('cpu', 'Slice', { x }, { begin, size });
      const got = runKernelOn('wasm', 'Slice', { x }, { begin, size });
      const ctx = JSON.stringify({ shape, begin, size });
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: want.shape });
      expect({ ctx, equal: bitsEqual(got.values, want.values) }).toEqual({ ctx, equal: true });
    }
  });

  it('FusedBatchNorm equals cpu with per-channel parameters, with and without scale/offset', () => {
    const rand = prng(29);
    for (let trial = 0; trial < 40; trial++) {
      const shape = randShape(rand, 1, 4);
      const c = shape[shape.length - 1];
      const vec = (lo: number) => ({ shape: [c], values: randValues(rand, [c]).map((v) => v + lo) });
      const inputs: Record<string, Input> = {
        x: { shape, values: randValues(rand, shape).map((v) => v * 5 + 2) },
        mean: vec(2),
        variance: vec(1.5),
      };
      if (trial % 4 !== 1) inputs.scale = vec(0);
      if (trial % 4 !== 2) inputs.offset = vec(0);
      const attrs = { varianceEpsilon: 1e-3 };
      const want = runKernelOn('cpu', 'FusedBatchNorm', inputs, attrs);
      const got = runKernelOn('wasm', 'FusedBatchNorm', inputs, attrs);
      const ctx = JSON.stringify({ shape, has: Object.keys(inputs) });
      expect({ ctx, shape: got.shape }).toEqual({ ctx, shape: want.shape });
      expect({ ctx, ok: relError(got.values, want.values) < 1e-5 }).toEqual({ ctx, ok: true });
    }
  });

  it('Cast equals cpu for same-dtype (shared buffer) and converting casts', () => {
    const rand = prng(37);
    const shape = [3, 4];
    const values = edgyValues(rand, shape).map((v) => (Number.isFinite(v) ? v * 3 : v));
    for (const [from, to] of [
      ['float32', 'float32'],
      ['float32', 'int32'],
      ['int32', 'int32'],
      ['int32', 'float32'],
      ['bool', 'bool'],
      ['float32', 'bool'],
    ] as const) {
      const x = {
        shape,
        values: values.map((v) => (from === 'float32' || Number.isFinite(v) ? v : 0)),
        dtype: from,
      };
      const want = runOn('cpu', 'Cast', { x }, { dtype: to });
      const got = runOn('wasm', 'Cast', { x }, { dtype: to });
      expect({ from, to, got }).toEqual({ from, to, got: want });
    }
    void tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor([1.5, -2]);
    const b = tf.cast(a, 'float32');
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1.5, -2]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Identity shares the buffer and disposing either side keeps the other readable', () => {
    void tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
