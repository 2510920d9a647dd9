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
}

/**
 * One optimisation step on `batch` at the state's position (the batch is not disposed here).
 * Synchronous on purpose: `Math.random` is swapped for the run's RNG while it runs, so dropout and
 * every other random op draw from the checkpointed generator.
 */
export function trainStep(plan: RunPlan, state: TrainingState, batch: TrainBatch): StepResult {
  const { model, opts } = plan;
  const optimizer = state.optimizer;
  const lr = learningRateAt(plan, state.position.globalStep);
  const trainable = model.trainableWeights;
  if (trainable.length === 0) throw new TrainConfigError('the model has no trainable weights');
  const params: OptimizerParam[] = trainable.map((w) => {
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
  const vars = params.map((p) => p.variable);
  let lossT: tf.Tensor | undefined;
  let correctT: tf.Tensor | undefined;
  const n = batch.xs.shape[0] ?? 0;
  withSeededRandom(state.rng, () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(batch.xs, { training: true }) as tf.Tensor;
        const loss = plan.lossFn(batch.ys, out);
        const numClasses = out.shape[out.shape.length - 1];
        if (out.rank === 2 && numClasses > 1) {
          correctT = tf.keep(
            tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), toClassIndices(batch.ys, numClasses)), 'int32')),
          );
        }
        return loss;
      }, vars);
      let gradList: Array<tf.Tensor | null> = vars.map((v) => grads[v.name] ?? null);
      if (opts.clipGradNorm !== undefined) gradList = clipByGlobalNorm(gradList, opts.clipGradNorm);
      optimizer.apply(params, gradList);
      lossT = tf.keep(value);
    }),
  );
  const loss = (lossT as tf.Tensor).dataSync()[0];
  lossT?.dispose();
  const correct = correctT ? correctT.dataSync()[0] : 0;
  correctT?.dispose();
  return { loss, correct, n, lr };
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
