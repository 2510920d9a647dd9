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
 * One model replica of a data-parallel group. `step` computes this shard's gradients, scaled by the
 * shard's share of the batch, into the replica's row of the shared buffer; `apply` sums all rows and
 * applies the optimizer. Every replica applies the same summed gradients, so trainable weights stay
 * identical across replicas without being exchanged.
 */
export class Replica {
  private constructor(
    private readonly init: ReplicaInit,
    private readonly model: tf.LayersModel,
    private readonly vars: tf.Variable[],
    private readonly optimizer: tf.Optimizer,
  ) {}

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

  step(msg: Extract<ToWorker, { type: 'step' }>): number {
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
      let offset = 0;
      for (const v of this.vars) {
        const g = grads[v.name].dataSync<'float32'>();
        for (let i = 0; i < g.length; i++) mine[offset + i] = g[i] * msg.weight;
        offset += v.size;
      }
      return value.dataSync()[0];
    });
  }

  apply(): void {
    const total = new Float32Array(this.init.paramCount);
    for (let w = 0; w < this.init.workerCount; w++) {
      const row = this.row(w);
      for (let i = 0; i < total.length; i++) total[i] += row[i];
    }
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      for (const v of this.vars) {
        named[v.name] = tf.tensor(total.subarray(offset, offset + v.size), v.shape);
        offset += v.size;
      }
      this.optimizer.applyGradients(named);
    });
  }

  setLearningRate(learningRate: number): void {
    (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  }

  weights(): Float32Array[] {
    return this.model.getWeights().map((w) => w.dataSync<'float32'>().slice());
  }
}
