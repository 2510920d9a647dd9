import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from './batches';
import {
  fitMicroBatch,
  memoryBudgetBytes,
  probeStepMemory,
  TrainOutOfMemoryError,
  type StepMemoryProbe,
} from './memory';
import type { MemoryEvent } from './options';
import type { RunPlan } from './run-plan';

/**
 * The micro-batch a run computes its steps in: the caller's number, or with `microBatch: 'auto'` the
 * largest that the memory probe of the first step says fits the backend's budget; halved by the
 * trainer when a step still runs out of memory.
 */
export class MemoryFit {
  microBatch: number | undefined;
  pending: boolean;

  constructor(private readonly plan: RunPlan) {
    const mb = plan.opts.microBatch;
    this.microBatch = typeof mb === 'number' ? mb : undefined;
    this.pending = mb === 'auto';
  }

  /** Measures the step's memory on the first samples of `batch` and picks the micro-batch. */
  async probe(batch: TrainBatch): Promise<void> {
    this.pending = false;
    const n = batch.xs.shape[0] ?? 0;
    if (n < 2) return;
    const budgetBytes = memoryBudgetBytes();
    let probe: StepMemoryProbe;
    try {
      probe = await measureStepMemory(this.plan.model, this.plan.lossFn, batch);
    } catch (error) {
      if (!(error instanceof TrainOutOfMemoryError)) throw error;
      // One sample fits but not two: go on one at a time. Not even one: give up now, no step retried.
      if (error.microBatch < 2 || !error.backendUsable)
        throw new TrainOutOfMemoryError(n, error.microBatch, error.backendUsable, { cause: error.cause });
      this.microBatch = 1;
      await this.emit({ kind: 'out-of-memory', batch: n, microBatch: 1, budgetBytes });
      return;
    }
    const fit = fitMicroBatch(n, probe, budgetBytes);
    if (fit < n) this.microBatch = fit;
    await this.emit({ kind: 'probe', batch: n, microBatch: fit, budgetBytes, ...probe });
  }

  async reduce(batch: number, microBatch: number): Promise<void> {
    this.microBatch = microBatch;
    await this.emit({ kind: 'out-of-memory', batch, microBatch, budgetBytes: memoryBudgetBytes() });
  }

  private async emit(event: MemoryEvent): Promise<void> {
    await this.plan.opts.onMemory?.(event);
  }
}

type LossFn = (ys: tf.Tensor, out: tf.Tensor) => tf.Scalar;

/**
 * The memory model of a training step of `model` on samples like those of `batch`: forward and
 * backward passes on 1 and 2 samples (no update; the moving statistics of layers that keep them are
 * put back), plus the optimizer's slots and the summed gradients (3x the trainable weights) that the
 * probe does not allocate yet.
 */
export async function measureStepMemory(
  model: tf.LayersModel,
  lossFn: LossFn,
  batch: TrainBatch,
): Promise<StepMemoryProbe> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kept = model.nonTrainableWeights.map((w) => ({ w, value: tf.clone(w.read()) }));
  try {
    const probe = await probeStepMemory((b) => {
      tf.tidy(() => {
        const xs = tf.slice(batch.xs, 0, b);
        const ys = tf.slice(batch.ys, 0, b);
        const { value, grads } = tf.variableGrads(
          () => lossFn(ys, model.apply(xs, { training: true }) as tf.Tensor),
          vars,
        );
        value.dataSync();
        tf.dispose(Object.values(grads));
      });
    });
    const trainableBytes = vars.reduce((sum, v) => sum + v.size * 4, 0);
    return { ...probe, fixedBytes: probe.fixedBytes + 3 * trainableBytes };
  } finally {
    for (const { w, value } of kept) {
      w.write(value);
      value.dispose();
    }
  }
}
