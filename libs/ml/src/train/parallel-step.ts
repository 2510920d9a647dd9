import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from './batches';
import { TrainConfigError } from './errors';
import type { ReplicaShard, StepReplicas } from './options';
import { mixSeed, withSeededRandom } from './rng';
import { learningRateAt, type RunPlan } from './run-plan';
import { applyGradients, classLabels, localGradients, stepParams, type StepResult } from './train-step';
import type { TrainingState } from './training-state';

/** Rows of each of `k` shards of `n` rows, as even as possible (the first ones one larger). */
export function evenShares(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => base + (i < n % k ? 1 : 0));
}

/**
 * Rows of each of `n` rows for threads that take `msPerRow[i]` each: in proportion to their speeds
 * (1 / msPerRow), rounded by largest remainder, every thread at least one row while n allows.
 * Falls back to even shares when a speed is unknown (not finite or not positive).
 */
export function measuredShares(n: number, msPerRow: number[]): number[] {
  const k = msPerRow.length;
  if (k === 0) return [];
  if (msPerRow.some((m) => !(m > 0 && Number.isFinite(m))) || n < k) return evenShares(n, k);
  const speed = msPerRow.map((m) => 1 / m);
  const total = speed.reduce((a, b) => a + b, 0);
  const exact = speed.map((v) => (n * v) / total);
  const rows = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = n - rows.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  for (let j = 0; left > 0; j = (j + 1) % k, left--) rows[byRemainder[j].i]++;
  // The floor of one row can overshoot: take back from the largest shares.
  while (left < 0) {
    const big = rows.indexOf(Math.max(...rows));
    rows[big]--;
    left++;
  }
  return rows;
}

/**
 * Wall-clock milliseconds per row of this thread's share (index 0: its rows' gradients) and of each
 * replica's (its whole step: weights in, gradients out), a moving average over the steps so far;
 * kept per StepReplicas across train() calls.
 */
class ShareBalance {
  msPerRow: number[];
  constructor(threads: number) {
    this.msPerRow = Array.from({ length: threads }, () => NaN);
  }
  record(thread: number, ms: number, rows: number): void {
    if (!(rows > 0) || !(ms >= 0)) return;
    const v = ms / rows;
    const prev = this.msPerRow[thread];
    this.msPerRow[thread] = Number.isFinite(prev) ? prev + 0.3 * (v - prev) : v;
  }
}
const balances = new WeakMap<StepReplicas, ShareBalance>();

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
 * from seeds of (run seed, global step, replica), so a resumed run replays them (with the 'even'
 * split; a 'measured' one moves rows between threads as timings change). With training dynamics,
 * every thread returns its rows' outputs of its training forward pass, as a single-thread step does.
 */
export async function parallelTrainStep(
  plan: RunPlan,
  state: TrainingState,
  batch: TrainBatch,
  replicas: StepReplicas,
  microBatch?: number,
  /**
   * This thread's other work, run after its rows' gradients while the replicas still compute (the
   * trainer reads and augments the next batch); must not throw. Its time counts as this thread's share.
   */
  whileReplicasCompute?: () => Promise<void>,
): Promise<StepResult> {
  if (plan.opts.loss) throw new TrainConfigError('training on replicas needs the built-in loss');
  const lr = learningRateAt(plan, state.position.globalStep);
  const params = stepParams(plan, state, lr);
  const n = batch.xs.shape[0] ?? 0;
  const track = plan.opts.dynamics !== undefined;
  let balance = balances.get(replicas);
  if (replicas.split === 'measured' && !balance) {
    balance = new ShareBalance(replicas.size + 1);
    balances.set(replicas, balance);
  }
  const [own, ...others] = balance ? measuredShares(n, balance.msPerRow) : evenShares(n, replicas.size + 1);

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
        ...(track ? { outputs: true } : {}),
      })
    : undefined;
  // Never leave the replicas' answer unobserved, even when this thread's share throws.
  pending?.catch(() => undefined);

  let loss = 0;
  let correct = 0;
  let ownOutputs: { values: Float32Array; classes: number } | undefined;
  const started = performance.now();
  const localGrads = withSeededRandom(state.rng, () =>
    tf.tidy(() => {
      const local = localGradients(plan, params, batch, 0, own, n, microBatch, track);
      loss = local.loss;
      correct = local.correct;
      ownOutputs = local.outputs;
      const byIndex: Record<number, tf.Tensor> = {};
      local.grads.forEach((g, i) => {
        if (g) byIndex[i] = g;
      });
      return byIndex;
    }),
  );
  if (shards.length) await whileReplicasCompute?.();
  const ownMs = performance.now() - started;
  let remote: Awaited<NonNullable<typeof pending>> | undefined;
  try {
    remote = pending ? await pending : undefined;
  } catch (error) {
    tf.dispose(Object.values(localGrads));
    throw error;
  }
  if (balance) {
    balance.record(0, ownMs, own);
    shards.forEach((sh, i) => balance.record(i + 1, remote?.ms?.[i] ?? NaN, sh.x.shape[0] ?? 0));
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
  const result = { loss: loss + (remote?.loss ?? 0), correct: correct + (remote?.correct ?? 0), n, lr };
  if (!track) return result;
  // Training dynamics: every thread's rows from its own training forward pass, as on one thread.
  const theirs = remote?.outputs ?? new Float32Array(0);
  if (!ownOutputs || (shards.length > 0 && theirs.length !== (n - own) * ownOutputs.classes))
    throw new TrainConfigError('training dynamics need a [batch, classes] model output');
  const values = new Float32Array(n * ownOutputs.classes);
  values.set(ownOutputs.values);
  values.set(theirs, ownOutputs.values.length);
  const classes = ownOutputs.classes;
  return { ...result, outputs: { values, classes, labels: classLabels(batch.ys, classes) } };
}
