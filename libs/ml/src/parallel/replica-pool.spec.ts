import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { MemoryCheckpointStore } from '../train/checkpoint';
import { tinyMlp, weightValues } from '../train/test-helpers';
import { inferenceBnModel, maxAbsDiff, recipe } from './parallel-spec-fixtures';
import { train } from '../train/trainer';
import { ReplicaPool } from './replica-pool';

/**
 * train() with a ReplicaPool (data parallel: the batch split between this thread and a replica
 * thread) against train() alone: the same recipe the worker uses (Adam, cosine schedule with warmup,
 * a backbone parameter group at a tenth of the learning rate, label smoothing, clipping, a frozen
 * layer), the same seed.
 */
describe('train() on a ReplicaPool (data-parallel, parity with the single-thread loop)', () => {
  let pool: ReplicaPool | undefined;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterEach(async () => {
    await pool?.dispose();
    pool = undefined;
  });

  it('with batch norm held in inference mode: the same weights and loss curve as one thread, moving statistics untouched', async () => {
    const single = inferenceBnModel();
    const r1 = await train(single, recipe());
    const parallel = inferenceBnModel();
    pool = await ReplicaPool.create(parallel, { replicas: 1 });
    expect(pool.size).toBe(1);
    const r2 = await train(parallel, recipe({ replicas: pool }));
    expect(r2.history.map((h) => h.loss)).toEqual(r1.history.map((h) => expect.closeTo(h.loss, 4)));
    expect(r2.history.map((h) => h.val_accuracy)).toEqual(r1.history.map((h) => h.val_accuracy));
    expect(maxAbsDiff(weightValues(parallel), weightValues(single))).toBeLessThan(1e-4);
    // The backbone's moving mean and variance (held in inference) never move, on either side.
    expect(maxAbsDiff(movingStatistics(parallel), movingStatistics(inferenceBnModel()))).toBe(0);
    expect(r2.history.at(-1)?.val_accuracy).toBeGreaterThan(0.8);
    single.dispose();
    parallel.dispose();
  });

  it('with batch statistics and dropout: a loss curve within 10% of one thread and the same accuracy', async () => {
    const single = tinyMlp(4);
    const r1 = await train(single, recipe());
    const parallel = tinyMlp(4);
    pool = await ReplicaPool.create(parallel, { replicas: 1 });
    const r2 = await train(parallel, recipe({ replicas: pool }));
    r2.history.forEach((h, i) =>
      expect(Math.abs(h.loss - r1.history[i].loss) / r1.history[i].loss).toBeLessThan(0.1),
    );
    expect(r2.history[2].loss).toBeLessThan(r2.history[0].loss);
    expect(Math.abs((r2.history[2].val_accuracy ?? 0) - (r1.history[2].val_accuracy ?? 0))).toBeLessThan(
      0.06,
    );
    expect(r2.history[2].val_accuracy).toBeGreaterThan(0.8);
    single.dispose();
    parallel.dispose();
  });

  it('resumes from a checkpoint (optimizer state, schedule, RNG) to the weights of an uninterrupted parallel run', async () => {
    const whole = tinyMlp(6);
    pool = await ReplicaPool.create(whole, { replicas: 1 });
    await train(whole, recipe({ replicas: pool }));
    await pool.dispose();

    const store = new MemoryCheckpointStore();
    const checkpoint = { store, key: 'run', everyEpochs: 1 };
    const resumed = tinyMlp(6);
    pool = await ReplicaPool.create(resumed, { replicas: 1 });
    const controller = new AbortController();
    const first = await train(
      resumed,
      recipe({
        replicas: pool,
        checkpoint,
        signal: controller.signal,
        progressEverySteps: 1,
        onProgress: (p) => {
          if (p.globalStep === 11) controller.abort();
        },
      }),
    );
    expect(first.status).toBe('cancelled');
    await pool.dispose();
    // A fresh model and pool (a restarted worker) continue from the checkpoint.
    const restarted = tinyMlp(99);
    pool = await ReplicaPool.create(restarted, { replicas: 1 });
    const second = await train(restarted, recipe({ replicas: pool, checkpoint }));
    expect(second.resumedFrom?.globalStep).toBe(11);
    expect(second.status).toBe('completed');
    expect(maxAbsDiff(weightValues(restarted), weightValues(whole))).toBeLessThan(1e-5);
    whole.dispose();
    resumed.dispose();
    restarted.dispose();
  });
});

/** The batch norm's moving mean and variance. */
function movingStatistics(m: tf.LayersModel): number[][] {
  const w = m.getLayer('bn').getWeights();
  return [w[2], w[3]].map((t) => Array.from(t.dataSync()));
}
