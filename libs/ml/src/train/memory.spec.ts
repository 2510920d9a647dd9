import * as tf from '@tensorflow/tfjs';
import { blobBatches, makeBlobs, tinyMlp, weightValues } from './test-helpers';
import {
  fitMicroBatch,
  isOutOfMemoryError,
  memoryBudgetBytes,
  TrainOutOfMemoryError,
  WASM_HEAP_BYTES,
} from './memory';
import type { MemoryEvent } from './options';
import { withSeededRandom } from './rng';
import { train } from './trainer';

/** What tfjs-backend-wasm throws (WebAssembly.RuntimeError; the lib typings here have no WebAssembly). */
function wasmRuntimeError(message: string): Error {
  const Ctor = (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } })
    .WebAssembly.RuntimeError;
  return new Ctor(message);
}

/**
 * A pass-through layer that fails like an exhausted wasm heap whenever it sees more than `limit`
 * samples in training: the out-of-memory failure injected at the step function's boundary.
 */
class FailAbove extends tf.layers.Layer {
  static readonly className = 'FailAboveForTest';
  readonly seen: number[] = [];
  constructor(private readonly limit: number) {
    super({ name: 'fail_above' });
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs['training'] === true) {
      const n = x.shape[0] ?? 0;
      this.seen.push(n);
      if (n > this.limit) throw wasmRuntimeError('memory access out of bounds');
    }
    return tf.clone(x);
  }
}

/** tinyMlp without dropout or batch norm, optionally with the failing layer after the input. */
function mlp(seed: number, fail?: FailAbove): tf.LayersModel {
  return withSeededRandom(seed, () => {
    const layers: tf.layers.Layer[] = [];
    if (fail) layers.push(tf.layers.inputLayer({ inputShape: [6] }), fail);
    layers.push(
      tf.layers.dense({
        ...(fail ? {} : { inputShape: [6] }),
        units: 16,
        activation: 'relu',
        name: 'hidden',
      }),
    );
    layers.push(tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }));
    return tf.sequential({ layers });
  });
}

function expectClose(a: number[][], b: number[][], tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThan(tol)));
}

describe('fitting training steps into memory', () => {
  const blobs = makeBlobs(64, 3);

  it('micro-batches give the update of the whole batch (gradients accumulated by slice size)', async () => {
    const whole = mlp(1);
    const sliced = mlp(1);
    const base = { epochs: 2, seed: 5, learningRate: 0.05, clipGradNorm: 1 };
    const a = await train(whole, { ...base, data: blobBatches(blobs, 24) });
    // 24 = 7 + 7 + 7 + 3: uneven slices too.
    const b = await train(sliced, { ...base, data: blobBatches(blobs, 24), microBatch: 7 });
    expect(b.microBatch).toBe(7);
    expectClose(weightValues(sliced), weightValues(whole));
    a.history.forEach((h, i) => {
      expect(Math.abs(h.loss - b.history[i].loss)).toBeLessThan(1e-5);
      expect(h.accuracy).toBe(b.history[i].accuracy);
    });
    whole.dispose();
    sliced.dispose();
  });

  it('a step that runs out of memory is retried with half the slice, never with the same size, and lands on the whole-batch update', async () => {
    const fail = new FailAbove(5);
    const model = mlp(1, fail);
    const events: MemoryEvent[] = [];
    const result = await train(model, {
      data: blobBatches(blobs, 16),
      epochs: 1,
      seed: 5,
      learningRate: 0.05,
      onMemory: (e) => void events.push(e),
    });
    expect(result.status).toBe('completed');
    expect(events.map((e) => [e.kind, e.batch, e.microBatch])).toEqual([
      ['out-of-memory', 16, 8],
      ['out-of-memory', 16, 4],
    ]);
    expect(result.microBatch).toBe(4);
    // The failing sizes were each tried once; then every step ran in slices of 4 (4 steps x 4 slices).
    expect(fail.seen).toEqual([16, 8, ...new Array<number>(16).fill(4)]);
    const reference = mlp(1);
    await train(reference, { data: blobBatches(blobs, 16), epochs: 1, seed: 5, learningRate: 0.05 });
    expectClose(weightValues(model), weightValues(reference));
    model.dispose();
    reference.dispose();
  });

  it('gives up with a typed error once a single sample does not fit', async () => {
    const fail = new FailAbove(0);
    const model = mlp(1, fail);
    const error = await train(model, { data: blobBatches(blobs, 16), epochs: 1, seed: 5 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainOutOfMemoryError);
    expect(error).toMatchObject({
      code: 'TRAIN_OUT_OF_MEMORY',
      batch: 16,
      microBatch: 1,
      backendUsable: true,
    });
    expect(fail.seen).toEqual([16, 8, 4, 2, 1]);
    model.dispose();
  });

  it("'auto' measures the first step and slices it to fit the budget", async () => {
    const model = tinyMlp(2, 6, 3, { dropout: false });
    const events: MemoryEvent[] = [];
    const result = await train(model, {
      data: blobBatches(blobs, 32),
      epochs: 1,
      seed: 1,
      microBatch: 'auto',
      onMemory: (e) => void events.push(e),
    });
    expect(events).toHaveLength(1);
    const probe = events[0];
    expect(probe.kind).toBe('probe');
    expect(probe.perSampleBytes).toBeGreaterThan(0);
    expect(probe.fixedBytes).toBeGreaterThan(0);
    // A tiny MLP fits whole on any backend; the decision is the pure function of the measurement.
    expect(probe.microBatch).toBe(32);
    expect(result.microBatch).toBeUndefined();
    expect(
      fitMicroBatch(
        32,
        { fixedBytes: probe.fixedBytes!, perSampleBytes: probe.perSampleBytes! },
        probe.fixedBytes! + 5.5 * probe.perSampleBytes!,
      ),
    ).toBe(5);
    model.dispose();
  });

  it('memory model arithmetic and error recognition', () => {
    expect(fitMicroBatch(64, { fixedBytes: 100, perSampleBytes: 10 }, 400)).toBe(30);
    expect(fitMicroBatch(64, { fixedBytes: 100, perSampleBytes: 10 }, 50)).toBe(1);
    expect(fitMicroBatch(16, { fixedBytes: 100, perSampleBytes: 10 }, 1e9)).toBe(16);
    expect(memoryBudgetBytes('wasm')).toBeLessThan(WASM_HEAP_BYTES);
    expect(memoryBudgetBytes('cpu', 8e9)).toBe(4e9);
    expect(isOutOfMemoryError(wasmRuntimeError('memory access out of bounds'))).toBe(true);
    expect(isOutOfMemoryError(wasmRuntimeError('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(
      true,
    );
    expect(isOutOfMemoryError(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemoryError(new Error('OOM when allocating tensor with shape[64,112,112,32]'))).toBe(true);
    expect(isOutOfMemoryError(new Error('Tensor is disposed.'))).toBe(false);
    expect(isOutOfMemoryError('out of memory')).toBe(false);
  });
});
