import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from './batches';
import { TrainConfigError } from './errors';
import { isNoDecayWeight } from './layers';
import { toClassIndices } from './losses';
import type { OptimizerParam } from './optimizers';
import { withSeededRandom } from './rng';
import { learningRateAt, type RunPlan } from './run-plan';
import type { TrainingState } from './training-state';

export interface StepResult {
  /** Mean loss of the batch. */
  loss: number;
  /** Correctly classified samples (0 when the output is not a class distribution). */
  correct: number;
  /** Samples in the batch. */
  n: number;
  /** Base learning rate of the step (before group scales). */
  lr: number;
  /** With `opts.dynamics`: the batch's outputs [n x classes] row-major and its class indices. */
  outputs?: { values: Float32Array; classes: number; labels: Int32Array };
}

/**
 * One optimisation step on `batch` at the state's position (the batch is not disposed here).
 * Synchronous on purpose: `Math.random` is swapped for the run's RNG while it runs, so dropout and
 * every other random op draw from the checkpointed generator.
 *
 * With `microBatch` smaller than the batch, the forward/backward pass runs on consecutive slices of at
 * most `microBatch` samples and their gradients are summed weighted by slice size (the loss is a mean
 * over samples), then applied once: the same update as the whole batch, in less memory.
 */
export function trainStep(
  plan: RunPlan,
  state: TrainingState,
  batch: TrainBatch,
  microBatch?: number,
): StepResult {
  const lr = learningRateAt(plan, state.position.globalStep);
  const params = stepParams(plan, state, lr);
  const n = batch.xs.shape[0] ?? 0;
  let result = { loss: 0, correct: 0 };
  const track = plan.opts.dynamics !== undefined;
  let outputs: { values: Float32Array; classes: number } | undefined;
  withSeededRandom(state.rng, () =>
    tf.tidy(() => {
      const local = localGradients(plan, params, batch, 0, n, n, microBatch, track);
      result = { loss: local.loss, correct: local.correct };
      outputs = local.outputs;
      applyGradients(plan, state, params, local.grads);
    }),
  );
  if (!track) return { ...result, n, lr };
  if (!outputs) throw new TrainConfigError('training dynamics need a [batch, classes] model output');
  return { ...result, n, lr, outputs: { ...outputs, labels: classLabels(batch.ys, outputs.classes) } };
}

/** Class index per row of `ys` (class indices, or the argmax of one-hot/smoothed rows). */
export function classLabels(ys: tf.Tensor, classes: number): Int32Array {
  const v = ys.dataSync();
  if (ys.rank === 1) return Int32Array.from(v);
  const n = ys.shape[0] ?? 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (v[i * classes + k] > v[i * classes + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** The trainable parameters of this step as the optimizer takes them (group learning rate, decay). */
export function stepParams(plan: RunPlan, state: TrainingState, lr: number): OptimizerParam[] {
  const { model } = plan;
  const optimizer = state.optimizer;
  const trainable = model.trainableWeights;
  if (trainable.length === 0) throw new TrainConfigError('the model has no trainable weights');
  return trainable.map((w) => {
    const key = plan.weightIndex.get(w.id);
    if (key === undefined)
      throw new TrainConfigError(`trainable weight ${w.name} is not among the model's weights`);
    const g = plan.weightGroup[key];
    const decayable = !isNoDecayWeight(w);
    return {
      key,
      variable: w.read() as tf.Variable,
      lr: lr * (g?.lrScale ?? 1),
      weightDecay: decayable ? (g?.weightDecay ?? optimizer.defaultWeightDecay) : 0,
    };
  });
}

/**
 * Gradients of the loss over rows [start, start + rows) of the batch of `total` rows, each slice's
 * weighted by its share of `total` (the loss is a mean over samples), computed in slices of at most
 * `microBatch` rows; with the slice's loss (weighted the same way) and correct count. Call inside
 * tf.tidy; the gradients are kept for the caller's scope.
 */
export function localGradients(
  plan: RunPlan,
  params: OptimizerParam[],
  batch: TrainBatch,
  start: number,
  rows: number,
  total: number,
  microBatch?: number,
  /** Also return the rows' outputs (training dynamics reuse this forward pass). */
  keepOutputs = false,
): {
  grads: Array<tf.Tensor | null>;
  loss: number;
  correct: number;
  outputs?: { values: Float32Array; classes: number };
} {
  const { model } = plan;
  const vars = params.map((p) => p.variable);
  const n = batch.xs.shape[0] ?? 0;
  const chunk = microBatch !== undefined && microBatch > 0 && microBatch < rows ? microBatch : rows;
  let loss = 0;
  let correct = 0;
  const outParts: Float32Array[] = [];
  let classes = 0;
  const sum: Array<tf.Tensor | null> = vars.map(() => null);
  for (let from = start; from < start + rows; from += chunk) {
    const size = Math.min(chunk, start + rows - from);
    const weight = size / total;
    const part = tf.tidy(() => {
      const xs = size === n ? batch.xs : tf.slice(batch.xs, from, size);
      const ys = size === n ? batch.ys : tf.slice(batch.ys, from, size);
      let correctT: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        // A regularizer on the features (BSS) runs the forward pass itself and adds its penalty.
        const forward = plan.opts.regularizer?.forward;
        const f = forward
          ? forward(xs)
          : { output: model.apply(xs, { training: true }) as tf.Tensor, penalty: undefined };
        const out = f.output;
        const l = f.penalty ? tf.add<tf.Scalar>(plan.lossFn(ys, out), f.penalty) : plan.lossFn(ys, out);
        const numClasses = out.shape[out.shape.length - 1];
        if (keepOutputs && out.rank === 2) {
          classes = numClasses;
          outParts.push(new Float32Array(out.dataSync()));
        }
        if (out.rank === 2 && numClasses > 1) {
          correctT = tf.keep(
            tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), toClassIndices(ys, numClasses)), 'int32')),
          );
        }
        return l;
      }, vars);
      loss += value.dataSync()[0] * weight;
      if (correctT) {
        correct += correctT.dataSync()[0];
        correctT.dispose();
      }
      const scaled: Record<string, tf.Tensor> = {};
      vars.forEach((v, i) => {
        const g = grads[v.name];
        if (g) scaled[i] = weight === 1 ? g : tf.mul(g, weight);
      });
      return scaled;
    });
    for (const [key, g] of Object.entries(part)) {
      const i = Number(key);
      const previous = sum[i];
      sum[i] = previous ? tf.add(previous, g) : g;
      if (previous) tf.dispose([previous, g]);
    }
  }
  if (!keepOutputs || classes === 0) return { grads: sum, loss, correct };
  const values = new Float32Array(rows * classes);
  let at = 0;
  for (const p of outParts) {
    values.set(p, at);
    at += p.length;
  }
  return { grads: sum, loss, correct, outputs: { values, classes } };
}

/** The step's update from the summed gradients: regularizer, clipping, then the optimizer. */
export function applyGradients(
  plan: RunPlan,
  state: TrainingState,
  params: OptimizerParam[],
  sum: Array<tf.Tensor | null>,
): void {
  const { model, opts } = plan;
  let gradList = opts.regularizer ? opts.regularizer.gradients(model.trainableWeights, sum) : sum;
  if (opts.clipGradNorm !== undefined) gradList = clipByGlobalNorm(gradList, opts.clipGradNorm);
  state.optimizer.apply(params, gradList);
}

/** Scales all gradients by min(1, maxNorm / globalNorm). */
export function clipByGlobalNorm(grads: Array<tf.Tensor | null>, maxNorm: number): Array<tf.Tensor | null> {
  const present = grads.filter((g): g is tf.Tensor => g !== null);
  if (present.length === 0) return grads;
  const scale = tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g)))));
    return tf.div(maxNorm, tf.maximum(norm, maxNorm));
  });
  const out = grads.map((g) => (g ? tf.mul(g, scale) : null));
  scale.dispose();
  return out;
}
