import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import type { AugmentContext } from '../train/augment-hook';
import type { StepReplicas } from '../train/options';
import { evenShares, measuredShares } from '../train/parallel-step';
import { weightValues } from '../train/test-helpers';
import { blobs, inferenceBnModel, maxAbsDiff, recipe } from './parallel-spec-fixtures';
import { train } from '../train/trainer';
import { mixSeed } from '../train/rng';
import { ReplicaPool } from './replica-pool';

/**
 * The two-thread step of the worker (ReplicaPool with the 'measured' split, the next batch read and
 * augmented while the replica computes, training dynamics from every thread's own forward pass)
 * against one thread: the same weights, loss curve and dynamics within float tolerance when the
 * model has no dropout and its batch norm is held in inference mode (no row-dependent randomness).
 */
/** Deterministic from the batch's position only, as the image augmenter is. */
function shift(xs: tf.Tensor, ctx: AugmentContext): tf.Tensor {
  const s = (mixSeed(ctx.seed, ctx.epoch, ctx.step) % 1000) / 5000;
  return tf.add(xs, s);
}

/** The pool, recording every step's replica shard sizes. */
function recording(pool: ReplicaPool, rows: number[][]): StepReplicas {
  return {
    size: pool.size,
    split: pool.split,
    gradients: (req) => {
      rows.push(req.shards.map((s) => s.x.shape[0] ?? 0));
      return pool.gradients(req);
    },
  };
}

describe('measuredShares', () => {
  it('shares rows in proportion to speed, at least one each, summing to the batch', () => {
    expect(measuredShares(64, [2, 1])).toEqual([21, 43]);
    expect(measuredShares(64, [1, 1])).toEqual([32, 32]);
    expect(measuredShares(10, [100, 1])).toEqual([1, 9]);
    expect(measuredShares(3, [1, 1, 1, 1])).toEqual(evenShares(3, 4));
    expect(measuredShares(7, [NaN, 1])).toEqual(evenShares(7, 2));
    for (const n of [2, 5, 33, 64])
      for (const ms of [
        [0.3, 7],
        [5, 1, 2],
      ]) {
        const rows = measuredShares(n, ms);
        expect(rows.reduce((a, b) => a + b, 0)).toBe(n);
        expect(Math.min(...rows)).toBeGreaterThanOrEqual(n >= ms.length ? 1 : 0);
      }
  });
});

describe('train() on two threads (measured split, read-ahead, dynamics) against one thread', () => {
  let pool: ReplicaPool | undefined;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterEach(async () => {
    await pool?.dispose();
    pool = undefined;
  });

  it('the same weights, losses and training dynamics, each batch augmented once at its own position', async () => {
    const seen1: string[] = [];
    const seen2: string[] = [];
    const augment = (seen: string[]) => (xs: tf.Tensor, ctx: AugmentContext) => {
      seen.push(`${ctx.epoch}:${ctx.step}`);
      return shift(xs, ctx);
    };
    const dynamics = { samples: blobs.count };
    const single = inferenceBnModel();
    const r1 = await train(single, recipe({ augment: augment(seen1), dynamics }));
    const parallel = inferenceBnModel();
    pool = await ReplicaPool.create(parallel, { replicas: 1, split: 'measured' });
    expect(pool.split).toBe('measured');
    const rows: number[][] = [];
    const r2 = await train(
      parallel,
      recipe({ augment: augment(seen2), dynamics, replicas: recording(pool, rows) }),
    );
    expect(seen2).toEqual(seen1);
    expect(seen1).toHaveLength(3 * 8);
    expect(rows).toHaveLength(3 * 8);
    for (const r of rows) expect(r[0]).toBeGreaterThanOrEqual(1);
    expect(r2.history.map((h) => h.loss)).toEqual(r1.history.map((h) => expect.closeTo(h.loss, 4)));
    expect(maxAbsDiff(weightValues(parallel), weightValues(single))).toBeLessThan(1e-4);
    const d1 = r1.dynamics;
    const d2 = r2.dynamics;
    expect(d1 && d2).toBeTruthy();
    if (!d1 || !d2) return;
    expect(d2.epochs).toBe(3);
    expect(Array.from(d2.label)).toEqual(Array.from(d1.label));
    expect(maxAbsDiff([d2.prob, d2.margin], [d1.prob, d1.margin])).toBeLessThan(1e-4);
    single.dispose();
    parallel.dispose();
  });

  it('a cancelled run leaves no batch read ahead behind', async () => {
    const m = inferenceBnModel();
    pool = await ReplicaPool.create(m, { replicas: 1, split: 'measured' });
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const r = await train(
      m,
      recipe({
        augment: shift,
        replicas: pool,
        signal: controller.signal,
        progressEverySteps: 1,
        onProgress: (p) => {
          if (p.globalStep === 3) controller.abort();
        },
      }),
    );
    expect(r.status).toBe('cancelled');
    expect(r.position.globalStep).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
