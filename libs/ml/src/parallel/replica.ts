import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import type { LossName, OptimizerSpec, ReplicaInit, ToWorker } from './protocol';

export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.name) {
    case 'sgd':
      return tf.train.sgd(spec.learningRate);
    case 'momentum':
      return tf.train.momentum(spec.learningRate, spec.momentum, spec.useNesterov);
    case 'adam':
      return tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate, spec.decay, spec.momentum, spec.epsilon);
  }
}

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
 * Which worker owns (keeps optimizer state for and updates) each variable: largest first to the
 * least loaded worker, so every worker updates about the same number of parameters. Deterministic,
 * so every replica computes the same assignment from the same sizes.
 */
export function assignOwners(sizes: readonly number[], workers: number): number[] {
  const load = new Array<number>(workers).fill(0);
  const owner = new Array<number>(sizes.length).fill(0);
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  for (const i of order) {
    let least = 0;
    for (let w = 1; w < workers; w++) if (load[w] < load[least]) least = w;
    owner[i] = least;
    load[least] += sizes[i];
  }
  return owner;
}

/**
 * One model replica of a data-parallel group. `step` computes this shard's gradients, scaled by the
 * shard's share of the batch, into the replica's row of the shared gradient buffer. The optimizer is
 * sharded: in `apply` each replica sums the rows only for the variables it owns, updates only those
 * (its optimizer holds their state alone) and publishes their new values in the shared weight
 * buffer; before its next use of the model it copies in the variables the others own. Each update
 * is the same arithmetic as one optimizer over every variable (they are independent per variable),
 * done once instead of in every replica.
 */
export class Replica {
  private readonly offsets: number[];
  private readonly owned: boolean[];
  /** Variables of other replicas were updated since this replica last read them. */
  private stale = false;

  private constructor(
    private readonly init: ReplicaInit,
    private readonly model: tf.LayersModel,
    private readonly vars: tf.Variable[],
    private readonly optimizer: tf.Optimizer,
  ) {
    let offset = 0;
    this.offsets = vars.map((v) => {
      const at = offset;
      offset += v.size;
      return at;
    });
    const owners = assignOwners(
      vars.map((v) => v.size),
      init.workerCount,
    );
    this.owned = owners.map((o) => o === init.workerIndex);
  }

  static async create(init: ReplicaInit): Promise<Replica> {
    await initBackend({ prefer: init.backend });
    if (init.setupModule) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(init.setupModule);
    }
    const model = await tf.loadLayersModel(tf.io.fromMemory(init.artifacts));
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const count = vars.reduce((n, v) => n + v.size, 0);
    if (count !== init.paramCount)
      throw new Error(`replica has ${count} trainable parameters, expected ${init.paramCount}`);
    return new Replica(init, model, vars, makeOptimizer(init.optimizer));
  }

  get backend(): string {
    return tf.getBackend();
  }

  private row(index: number): Float32Array {
    return new Float32Array(this.init.grads, index * this.init.paramCount * 4, this.init.paramCount);
  }

  private sharedWeights(): Float32Array {
    return new Float32Array(this.init.weights, 0, this.init.paramCount);
  }

  step(msg: Extract<ToWorker, { type: 'step' }>): number {
    this.readOthers();
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

  /** Sums every replica's gradients for the variables this one owns, updates them, and publishes them. */
  apply(): void {
    const rows = Array.from({ length: this.init.workerCount }, (_, w) => this.row(w));
    const shared = this.sharedWeights();
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      this.vars.forEach((v, k) => {
        if (!this.owned[k]) return;
        const offset = this.offsets[k];
        const total = rows[0].slice(offset, offset + v.size);
        for (let w = 1; w < rows.length; w++) {
          const row = rows[w];
          for (let i = 0; i < total.length; i++) total[i] += row[offset + i];
        }
        named[v.name] = tf.tensor(total, v.shape);
      });
      if (Object.keys(named).length > 0) this.optimizer.applyGradients(named);
    });
    this.vars.forEach((v, k) => {
      if (this.owned[k]) shared.set(v.dataSync<'float32'>(), this.offsets[k]);
    });
    this.stale = this.init.workerCount > 1;
  }

  /** Copies in the variables other replicas updated in the last `apply`. */
  private readOthers(): void {
    if (!this.stale) return;
    const shared = this.sharedWeights();
    tf.tidy(() => {
      this.vars.forEach((v, k) => {
        if (!this.owned[k]) v.assign(tf.tensor(shared.subarray(this.offsets[k], this.offsets[k] + v.size), v.shape));
      });
    });
    this.stale = false;
  }

  setLearningRate(learningRate: number): void {
    (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  }

  weights(): Float32Array[] {
    this.readOthers();
    return this.model.getWeights().map((w) => w.dataSync<'float32'>().slice());
  }
}
