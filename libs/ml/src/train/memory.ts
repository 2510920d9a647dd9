import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { TrainError } from './errors';

/**
 * Fitting a training step into the memory of the backend in use, by measurement.
 *
 * A probe runs the step's forward and backward pass on 1 and then 2 samples of the first real batch
 * under `tf.profile` and reads the engine's peak of live tensor bytes: peak(b) = fixed + b x perSample
 * (activations kept for the backward pass grow linearly with the batch). The largest micro-batch
 * whose predicted peak stays within the backend's budget is used; a larger batch is then computed in
 * micro-batches whose gradients are accumulated (weighted by size) before one optimizer update, so the
 * update, the effective batch and the learning rate are those of the whole batch.
 *
 * Budgets (calibrated on MobileNetV2 fine-tuning, wasm, see docs/training.md): the wasm heap is a
 * 32-bit memory of at most 4 GiB per process, and the profile's peak over-estimated the heap a step
 * really used (batch 64 at 128 px: predicted 4,955 MiB, heap 3,631 MiB), so the budget is 80% of
 * 4 GiB in profile bytes. Other backends allocate outside such a heap; their budget is half the
 * machine's memory.
 */

export interface StepMemoryProbe {
  /** Predicted bytes of live tensors at the step's peak, for a micro-batch of 0 (weights, optimizer state, inputs...). */
  fixedBytes: number;
  /** Additional bytes per sample in the micro-batch. */
  perSampleBytes: number;
}

const GiB = 2 ** 30;
/** tfjs-backend-wasm's heap maximum (a 32-bit wasm memory). */
export const WASM_HEAP_BYTES = 4 * GiB;
/** Fraction of the wasm heap a step's predicted peak may take. */
export const WASM_BUDGET_FRACTION = 0.8;

/** Bytes a step's predicted peak may reach on `backend` (the tfjs backend name). */
export function memoryBudgetBytes(backend: string = tf.getBackend(), totalMemory?: number): number {
  if (backend === 'wasm') return WASM_HEAP_BYTES * WASM_BUDGET_FRACTION;
  return (totalMemory ?? os.totalmem()) / 2;
}

/**
 * Measures the live-tensor peak of `step(b)` for b = 1 and 2: the linear memory model of the step.
 * Running out of memory at b samples throws a TrainOutOfMemoryError with microBatch b.
 */
export async function probeStepMemory(step: (samples: number) => void): Promise<StepMemoryProbe> {
  const peak = async (b: number): Promise<number> => {
    try {
      return (await tf.profile(() => step(b))).peakBytes;
    } catch (error) {
      if (!isOutOfMemoryError(error)) throw error;
      throw new TrainOutOfMemoryError(b, b, backendStillWorks(), { cause: error });
    }
  };
  const p1 = await peak(1);
  const p2 = await peak(2);
  const perSampleBytes = Math.max(0, p2 - p1);
  return { fixedBytes: Math.max(0, p1 - perSampleBytes), perSampleBytes };
}

/** The largest micro-batch (1..batch) whose predicted peak fits `budgetBytes` (1 when none does). */
export function fitMicroBatch(batch: number, probe: StepMemoryProbe, budgetBytes: number): number {
  if (probe.perSampleBytes <= 0) return batch;
  const fits = Math.floor((budgetBytes - probe.fixedBytes) / probe.perSampleBytes);
  return Math.max(1, Math.min(batch, fits));
}

/**
 * Whether `error` says an allocation failed: wasm's heap could not grow (an emscripten abort or an
 * out-of-bounds access after a failed malloc), an ArrayBuffer could not be allocated (cpu backend),
 * or TensorFlow's OOM (native backends).
 */
export function isOutOfMemoryError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name}: ${error.message}`;
  return /memory access out of bounds|Aborted\(\)|Cannot enlarge memory|out of memory|\bOOM\b|Array buffer allocation failed/i.test(
    text,
  );
}

/** Whether the backend still computes after an error (an aborted wasm module does not). */
export function backendStillWorks(): boolean {
  try {
    const v = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
    return v === 3;
  } catch {
    return false;
  }
}

/**
 * A training step did not fit in memory even at `microBatch` samples, or the backend could not go on
 * after running out (`backendUsable` false: an aborted wasm module; the process needs a new backend).
 */
export class TrainOutOfMemoryError extends TrainError {
  constructor(
    readonly batch: number,
    readonly microBatch: number,
    readonly backendUsable: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      'TRAIN_OUT_OF_MEMORY',
      `a training step of ${batch} samples ran out of memory at micro-batches of ${microBatch}` +
        (backendUsable ? '' : ' and the backend stopped working'),
    );
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
