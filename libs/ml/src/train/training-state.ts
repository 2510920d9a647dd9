import * as tf from '@tensorflow/tfjs';
import type { TensorDType } from './checkpoint';
import { TrainingDynamics } from './dynamics';
import { CheckpointError } from './errors';
import { setTrainableFlags, trainableFlags } from './layers';
import { Optimizer, type OptimizerConfig, type OptimizerState } from './optimizers';
import { Rng } from './rng';
import type { TensorValues, TrainingCheckpoint } from './training-checkpoint';
import type { EarlyStoppingState, EpochAccum, EpochLog, TrainPosition, TrainStatus } from './types';

const newAccum = (): EpochAccum => ({ steps: 0, lossSum: 0, correct: 0, samples: 0, seconds: 0 });

/**
 * Everything a training run carries from step to step and that a checkpoint must restore for a
 * resumed run to end with exactly the weights of an uninterrupted one: the position, the history,
 * the epoch in progress's sums, early stopping's memory (and best weights), the RNG and the
 * optimizer. The model's weights and trainable flags are the model's own; {@link toCheckpoint} and
 * {@link restore} read and write them too. Owns tensors: {@link dispose} when done.
 */
export class TrainingState {
  position: TrainPosition = { epoch: 0, step: 0, globalStep: 0 };
  history: EpochLog[] = [];
  accum: EpochAccum = newAccum();
  early: EarlyStoppingState = { best: null, bestEpoch: -1, wait: 0 };
  /** The weights of early stopping's best epoch, when they are kept. */
  bestWeights: tf.Tensor[] | null = null;
  /** Training dynamics recorded so far (with `TrainOptions.dynamics`, from the first step on). */
  dynamics: TrainingDynamics | null = null;
  /** Set once the run has ended for good (completed or early-stopped); null while it can go on. */
  finished: TrainStatus | null = null;
  readonly rng: Rng;
  readonly optimizer: Optimizer;

  constructor(
    readonly seed: number,
    optimizer: OptimizerConfig,
  ) {
    this.optimizer = new Optimizer(optimizer);
    this.rng = new Rng(seed);
  }

  /** Adds one finished step of the epoch in progress. */
  recordStep(step: { loss: number; correct: number; n: number }, seconds: number): void {
    const a = this.accum;
    a.steps++;
    a.lossSum += step.loss * step.n;
    a.correct += step.correct;
    a.samples += step.n;
    a.seconds += seconds;
    const p = this.position;
    this.position = { epoch: p.epoch, step: p.step + 1, globalStep: p.globalStep + 1 };
  }

  /** Ends the epoch in progress with its log and moves to the start of the next one. */
  closeEpoch(log: EpochLog): void {
    this.history = [...this.history, log];
    this.accum = newAccum();
    this.position = { epoch: this.position.epoch + 1, step: 0, globalStep: this.position.globalStep };
  }

  /** Keeps copies of `weights` as the best epoch's. */
  keepBestWeights(weights: tf.LayerVariable[]): void {
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = weights.map((w) => tf.clone(w.read()));
  }

  /** The run as plain values (every tensor read back), for the checkpoint codec. */
  toCheckpoint(model: tf.LayersModel, weights: tf.LayerVariable[]): TrainingCheckpoint {
    const ostate = this.optimizer.getState();
    try {
      return {
        seed: this.seed,
        position: this.position,
        rng: this.rng.state(),
        weights: weights.map((w) => ({ name: w.name, values: readValues(w.name, w.read()) })),
        trainable: trainableFlags(model),
        optimizer: {
          type: ostate.type,
          params: ostate.params.map((p) => ({
            key: p.key,
            count: p.count,
            slots: Object.fromEntries(
              Object.entries(p.slots).map(([s, t]) => [s, readValues(`opt/${p.key}/${s}`, t)]),
            ),
          })),
        },
        history: this.history,
        epochAccum: this.accum,
        early: {
          ...this.early,
          bestWeights: this.bestWeights?.map((t, i) => readValues(`best/${i}`, t)) ?? null,
        },
        finished: this.finished,
        dynamics: this.dynamics?.values() ?? null,
      };
    } finally {
      ostate.params.forEach((p) => Object.values(p.slots).forEach((t) => t.dispose()));
    }
  }

  /**
   * Continues from `c`: checks that it was made for this seed and a model of `weights`' shapes
   * ({@link CheckpointError} `mismatch` otherwise; an optimizer of another type is a
   * TrainConfigError), then writes the model's weights and trainable flags and takes its state.
   */
  restore(c: TrainingCheckpoint, model: tf.LayersModel, weights: tf.LayerVariable[]): void {
    if (c.seed !== this.seed) {
      throw new CheckpointError(`checkpoint was made with seed ${c.seed}, not ${this.seed}`, 'mismatch');
    }
    if (c.weights.length !== weights.length) {
      throw new CheckpointError(
        `checkpoint has ${c.weights.length} weights, the model ${weights.length}`,
        'mismatch',
      );
    }
    weights.forEach((w, i) => {
      const v = c.weights[i].values;
      if (v.shape.join(',') !== w.shape.join(',') || v.dtype !== w.dtype) {
        throw new CheckpointError(
          `weight ${i} (${w.name}): checkpoint ${v.dtype} [${v.shape.join(',')}] != model ${w.dtype} [${w.shape.join(',')}]`,
          'mismatch',
        );
      }
    });
    const layers = trainableFlags(model).length;
    if (c.trainable.length !== layers) {
      throw new CheckpointError(
        `checkpoint has ${c.trainable.length} layers, the model ${layers}`,
        'mismatch',
      );
    }

    const ostate: OptimizerState = {
      type: c.optimizer.type,
      params: c.optimizer.params.map((p) => ({
        key: p.key,
        count: p.count,
        slots: Object.fromEntries(Object.entries(p.slots).map(([s, v]) => [s, toTensor(v)])),
      })),
    };
    try {
      this.optimizer.setState(ostate);
    } finally {
      ostate.params.forEach((p) => Object.values(p.slots).forEach((t) => t.dispose()));
    }
    weights.forEach((w, i) => {
      const t = toTensor(c.weights[i].values);
      w.write(t);
      t.dispose();
    });
    setTrainableFlags(model, c.trainable);
    this.rng.setState(c.rng);
    this.position = { ...c.position };
    this.history = c.history;
    this.accum = { ...c.epochAccum };
    this.early = { best: c.early.best, bestEpoch: c.early.bestEpoch, wait: c.early.wait };
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = c.early.bestWeights?.map(toTensor) ?? null;
    this.finished = c.finished;
    this.dynamics = null;
    if (c.dynamics) {
      this.dynamics = new TrainingDynamics(c.dynamics.samples, c.dynamics.classes);
      this.dynamics.restore(c.dynamics);
    }
  }

  dispose(): void {
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = null;
    this.optimizer.dispose();
  }
}

function readValues(name: string, t: tf.Tensor): TensorValues {
  const dtype = t.dtype as TensorDType;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new CheckpointError(`cannot checkpoint tensor '${name}' of dtype ${t.dtype}`);
  }
  const values = t.dataSync();
  const data =
    dtype === 'float32'
      ? new Float32Array(values as Float32Array)
      : dtype === 'int32'
        ? new Int32Array(values as Int32Array)
        : new Uint8Array(values as Uint8Array);
  return { dtype, shape: t.shape.slice(), data };
}

function toTensor(v: TensorValues): tf.Tensor {
  return tf.tensor(v.data, v.shape, v.dtype);
}
