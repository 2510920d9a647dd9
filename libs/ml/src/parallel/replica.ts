import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { flatOptimizer, type FlatOptimizer } from './flat-optimizer';
import type { LossName, ReplicaInit, ToWorker } from './protocol';

export function computeLoss(name: LossName, labels: tf.Tensor, output: tf.Tensor): tf.Scalar {
  switch (name) {
    case 'softmaxCrossEntropy':
      return tf.losses.softmaxCrossEntropy(labels, output);
    case 'categoricalCrossentropy':
      return tf.mean(tf.metrics.categoricalCrossentropy(labels, output));
    case 'meanSquaredError':
      return tf.losses.meanSquaredError(labels, output);
  }
}

/**
 * The contiguous range [start, end) of the flat parameter vector (trainable variables back to back)
 * that worker `index` of `workers` updates: as even as possible, whatever the variables' sizes.
 */
export function paramRange(paramCount: number, workers: number, index: number): [number, number] {
  const base = Math.floor(paramCount / workers);
  const extra = paramCount % workers;
  const start = index * base + Math.min(index, extra);
  return [start, start + base + (index < extra ? 1 : 0)];
}

/**
 * One model replica of a data-parallel group. `step` computes this shard's gradients, scaled by the
 * shard's share of the batch, into the replica's row of the shared gradient buffer. The optimizer is
 * sharded by parameter range, across tensor boundaries: in `apply` each replica sums every row over
 * its own range of the flat parameter vector, updates that range with a FlatOptimizer (which holds
 * the state for it alone) and publishes it in the shared weight buffer; before the model is used
 * again, every replica copies all trainable weights in from there. Per-parameter updates are
 * independent, so this is the arithmetic of one optimizer over every parameter, done once and split
 * evenly (one large tensor, like the small CNN's dense kernel at 98% of its parameters, is split too).
 */
export class Replica {
  private readonly offsets: number[];
  private readonly range: [number, number];
  /** This replica's range of the parameters, as last updated. */
  private readonly params: Float32Array;
  private readonly gradSum: Float32Array;
  private readonly optimizer: FlatOptimizer;
  /** The shared weights changed since the model's variables were last set from them. */
  private stale = false;

  private constructor(
    private readonly init: ReplicaInit,
    private readonly model: tf.LayersModel,
    private readonly vars: tf.Variable[],
  ) {
    let offset = 0;
    this.offsets = vars.map((v) => {
      const at = offset;
      offset += v.size;
      return at;
    });
    this.range = paramRange(init.paramCount, init.workerCount, init.workerIndex);
    const [start, end] = this.range;
    this.params = new Float32Array(end - start);
    vars.forEach((v, k) => {
      const from = Math.max(start, this.offsets[k]);
      const to = Math.min(end, this.offsets[k] + v.size);
      if (from < to)
        this.params.set(
          v.dataSync<'float32'>().subarray(from - this.offsets[k], to - this.offsets[k]),
          from - start,
        );
    });
    this.gradSum = new Float32Array(end - start);
    this.optimizer = flatOptimizer(init.optimizer, end - start);
  }

  static async create(init: ReplicaInit): Promise<Replica> {
    await initBackend({ prefer: init.backend, nativeBlas: init.nativeBlas });
    if (init.setupModule) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(init.setupModule);
    }
    const model = await tf.loadLayersModel(tf.io.fromMemory(init.artifacts));
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const count = vars.reduce((n, v) => n + v.size, 0);
    if (count !== init.paramCount)
      throw new Error(`replica has ${count} trainable parameters, expected ${init.paramCount}`);
    return new Replica(init, model, vars);
  }

  get backend(): string {
    return tf.getBackend();
  }

  private row(index: number): Float32Array {
    return new Float32Array(this.init.grads, index * this.init.paramCount * 4, this.init.paramCount);
  }

  step(msg: Extract<ToWorker, { type: 'step' }>): number {
    this.readWeights();
    const mine = this.row(this.init.workerIndex);
    if (msg.weight === 0) {
      mine.fill(0);
      return 0;
    }
    return tf.tidy(() => {
      const x = tf.tensor(msg.x.data, msg.x.shape);
      const y = tf.tensor(msg.y.data, msg.y.shape);
      const { value, grads } = tf.variableGrads(
        () => computeLoss(this.init.loss, y, this.model.apply(x, { training: true }) as tf.Tensor),
        this.vars,
      );
      this.vars.forEach((v, k) => {
        const g = grads[v.name].dataSync<'float32'>();
        const offset = this.offsets[k];
        for (let i = 0; i < g.length; i++) mine[offset + i] = g[i] * msg.weight;
      });
      return value.dataSync()[0];
    });
  }

  /** Sums every replica's gradients over this replica's range, updates the range, and publishes it. */
  apply(): void {
    const [start, end] = this.range;
    const sum = this.gradSum;
    sum.set(this.row(0).subarray(start, end));
    for (let w = 1; w < this.init.workerCount; w++) {
      const row = this.row(w).subarray(start, end);
      for (let i = 0; i < sum.length; i++) sum[i] += row[i];
    }
    this.optimizer.update(this.params, sum);
    new Float32Array(this.init.weights, start * 4, end - start).set(this.params);
    this.stale = true;
  }

  /** Sets the model's trainable variables from the shared weights, once every replica has published. */
  private readWeights(): void {
    if (!this.stale) return;
    const shared = new Float32Array(this.init.weights, 0, this.init.paramCount);
    tf.tidy(() => {
      this.vars.forEach((v, k) =>
        v.assign(tf.tensor(shared.subarray(this.offsets[k], this.offsets[k] + v.size), v.shape)),
      );
    });
    this.stale = false;
  }

  setLearningRate(learningRate: number): void {
    this.optimizer.learningRate = learningRate;
  }

  weights(): Float32Array[] {
    this.readWeights();
    return this.model.getWeights().map((w) => w.dataSync<'float32'>().slice());
  }
}
