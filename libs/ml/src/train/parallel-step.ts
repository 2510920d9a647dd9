import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from './batches';
import { TrainConfigError } from './errors';
import type { ReplicaShard, StepReplicas } from './options';
import { mixSeed, withSeededRandom } from './rng';
import { learningRateAt, type RunPlan } from './run-plan';
import { applyGradients, localGradients, stepParams, type StepResult } from './train-step';
import type { TrainingState } from './training-state';

/** Rows of each of `k` shards of `n` rows, as even as possible (the first ones one larger). */
function evenShares(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => base + (i < n % k ? 1 : 0));
}

function rowsOf(t: tf.Tensor, start: number, rows: number): { data: Float32Array; shape: number[] } {
  const part = tf.tidy(() => tf.cast(tf.slice(t, start, rows), 'float32'));
  const data = part.dataSync<'float32'>().slice();
  const shape = part.shape.slice();
  part.dispose();
  return { data, shape };
}

/**
 * {@link trainStep} with the batch split between this thread and `replicas`: the replicas start on
 * their rows first, this thread computes its own rows' gradients (with the run's RNG, like a
 * single-thread step), then adds theirs and applies the update exactly as a single-thread step
 * does (regularizer, clipping, optimizer with its groups and state). Random ops on the replicas draw
 * from seeds of (run seed, global step, replica), so a resumed run replays them.
 */
export async function parallelTrainStep(
  plan: RunPlan,
  state: TrainingState,
  batch: TrainBatch,
  replicas: StepReplicas,
  microBatch?: number,
): Promise<StepResult> {
  if (plan.opts.loss) throw new TrainConfigError('training on replicas needs the built-in loss');
  const lr = learningRateAt(plan, state.position.globalStep);
  const params = stepParams(plan, state, lr);
  const n = batch.xs.shape[0] ?? 0;
  const [own, ...others] = evenShares(n, replicas.size + 1);
  const shards: ReplicaShard[] = [];
  let start = own;
  for (const rows of others) {
    if (rows === 0) break;
    shards.push({ x: rowsOf(batch.xs, start, rows), y: rowsOf(batch.ys, start, rows), weight: rows / n });
    start += rows;
  }
  const pending = shards.length
    ? replicas.gradients({
        trainable: params.map((p) => p.key),
        shards,
        loss: { outputs: plan.opts.outputs, labelSmoothing: plan.opts.labelSmoothing },
        seed: mixSeed(plan.seed, state.position.globalStep),
        ...(microBatch !== undefined ? { microBatch } : {}),
      })
    : undefined;
  // Never leave the replicas' answer unobserved, even when this thread's share throws.
  pending?.catch(() => undefined);

  let loss = 0;
  let correct = 0;
  const localGrads = withSeededRandom(state.rng, () =>
    tf.tidy(() => {
      const local = localGradients(plan, params, batch, 0, own, n, microBatch);
      loss = local.loss;
      correct = local.correct;
      const byIndex: Record<number, tf.Tensor> = {};
      local.grads.forEach((g, i) => {
        if (g) byIndex[i] = g;
      });
      return byIndex;
    }),
  );
  let remote: Awaited<NonNullable<typeof pending>> | undefined;
  try {
    remote = pending ? await pending : undefined;
  } catch (error) {
    tf.dispose(Object.values(localGrads));
    throw error;
  }
  tf.tidy(() => {
    let offset = 0;
    const sum = params.map((p, i) => {
      const size = p.variable.size;
      const mine = localGrads[i] ?? null;
      const theirs = remote
        ? tf.tensor(remote.grads.subarray(offset, offset + size), p.variable.shape)
        : null;
      offset += size;
      if (mine && theirs) return tf.add(mine, theirs);
      return mine ?? theirs;
    });
    applyGradients(plan, state, params, sum);
  });
  tf.dispose(Object.values(localGrads));
  return { loss: loss + (remote?.loss ?? 0), correct: correct + (remote?.correct ?? 0), n, lr };
}
