import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CheckpointError,
  FsCheckpointStore,
  MemoryCheckpointStore,
  TrainConfigError,
  freezeLayers,
  train,
  type TrainBatch,
  type TrainOptions,
  type TrainProgress,
} from '.';
import { blobBatches, makeBlobs, tinyMlp, weightValues } from './test-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const blobs = makeBlobs(240, 1);
const valBlobs = makeBlobs(90, 2);

/** A run that uses every stateful feature: its resumption must reproduce it exactly. */
function fullOptions(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    data: blobBatches(blobs, 32), // 8 steps per epoch, last batch smaller
    validation: blobBatches(valBlobs, 45, false),
    epochs: 4,
    seed: 11,
    optimizer: { type: 'adamw', weightDecay: 0.05 },
    learningRate: 0.02,
    lrSchedule: { type: 'cosine', warmupSteps: 4, minFactor: 0.1 },
    paramGroups: [{ name: 'backbone', layers: ['hidden', 'bn'], lrScale: 0.5 }],
    unfreeze: [{ epoch: 1, layers: ['hidden'] }],
    clipGradNorm: 1,
    labelSmoothing: 0.1,
    earlyStopping: { monitor: 'val_loss', patience: 10, restoreBestWeights: true },
    ...extra,
  };
}

function freezeHidden(m: tf.LayersModel): tf.LayersModel {
  freezeLayers(m, ['hidden']);
  return m;
}

describe('train', () => {
  it('learns a separable problem and reports per-epoch history', async () => {
    const m = tinyMlp(1);
    const res = await train(m, {
      data: blobBatches(blobs, 32),
      validation: blobBatches(valBlobs, 90, false),
      epochs: 6,
      learningRate: 0.02,
    });
    expect(res.status).toBe('completed');
    expect(res.history).toHaveLength(6);
    expect(res.history[5].loss).toBeLessThan(res.history[0].loss);
    expect(res.history[5].val_accuracy).toBeGreaterThan(0.9);
    expect(res.position).toEqual({ epoch: 6, step: 0, globalStep: 48 });
    m.dispose();
  });

  it('lets the event loop take turns between steps (an async loop over in-memory batches runs only microtasks otherwise)', async () => {
    const m = tinyMlp(1);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    try {
      await train(m, { data: blobBatches(blobs, 8), epochs: 10, learningRate: 0.02 });
    } finally {
      clearInterval(timer);
    }
    expect(Date.now() - started).toBeGreaterThan(200);
    // Held for the whole run, the interval would have fired at most once (after it).
    expect(ticks).toBeGreaterThanOrEqual(2);
    m.dispose();
  });

  it('a run cancelled mid-epoch and resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
    const ref = freezeHidden(tinyMlp(3));
    const refRes = await train(ref, fullOptions());
    expect(refRes.status).toBe('completed');

    const store = new MemoryCheckpointStore();
    const ac = new AbortController();
    const first = freezeHidden(tinyMlp(3));
    const r1 = await train(
      first,
      fullOptions({
        checkpoint: { store, key: 'run' },
        signal: ac.signal,
        progressEverySteps: 1,
        onProgress: (p) => {
          if (p.kind === 'step' && p.globalStep === 13) ac.abort(); // epoch 1, step 5
        },
      }),
    );
    expect(r1.status).toBe('cancelled');
    expect(r1.position).toEqual({ epoch: 1, step: 5, globalStep: 13 });
    expect(r1.checkpointSaved).toBe(true);
    first.dispose();

    // A new process would build a new model object (differently initialised here on purpose) and
    // would not have frozen anything yet: everything comes from the checkpoint.
    const resumed = tinyMlp(99);
    const r2 = await train(resumed, fullOptions({ checkpoint: { store, key: 'run' } }));
    expect(r2.resumedFrom).toEqual({ epoch: 1, step: 5, globalStep: 13 });
    expect(r2.status).toBe('completed');
    expect(weightValues(resumed)).toEqual(weightValues(ref));
    expect(r2.history.map((h) => [h.loss, h.val_loss])).toEqual(
      refRes.history.map((h) => [h.loss, h.val_loss]),
    );
    expect(r2.best).toEqual(refRes.best);
    ref.dispose();
    resumed.dispose();
  });

  it('resumes across several interruptions, through the filesystem store and step checkpoints', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ms-ckpt-'));
    try {
      const ref = freezeHidden(tinyMlp(5));
      await train(ref, fullOptions({ optimizer: { type: 'sgd', momentum: 0.9, nesterov: true } }));

      const store = new FsCheckpointStore(dir);
      let model = freezeHidden(tinyMlp(5));
      let result;
      const stops = [3, 8, 17, 30]; // mid-epoch, epoch boundary, mid-epoch, last epoch
      for (const stopAt of stops) {
        const ac = new AbortController();
        result = await train(
          model,
          fullOptions({
            optimizer: { type: 'sgd', momentum: 0.9, nesterov: true },
            checkpoint: { store, key: 'jobs/abc/ckpt', everySteps: 5 },
            signal: ac.signal,
            progressEverySteps: 1,
            onProgress: (p) => {
              if (p.kind === 'step' && p.globalStep === stopAt) ac.abort();
            },
          }),
        );
        expect(result.status).toBe('cancelled');
        model.dispose();
        model = tinyMlp(1000 + stopAt);
      }
      result = await train(
        model,
        fullOptions({
          optimizer: { type: 'sgd', momentum: 0.9, nesterov: true },
          checkpoint: { store, key: 'jobs/abc/ckpt' },
        }),
      );
      expect(result.status).toBe('completed');
      expect(weightValues(model)).toEqual(weightValues(ref));

      // A finished run's checkpoint resumes to the same finished state without training.
      const again = tinyMlp(7);
      const done = await train(
        again,
        fullOptions({
          optimizer: { type: 'sgd', momentum: 0.9, nesterov: true },
          checkpoint: { store, key: 'jobs/abc/ckpt' },
        }),
      );
      expect(done.status).toBe('completed');
      expect(done.history).toHaveLength(4);
      expect(weightValues(again)).toEqual(weightValues(ref));
      ref.dispose();
      model.dispose();
      again.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not leak tensors: tf.memory().numTensors is stable across epochs and restored after training', async () => {
    const m = tinyMlp(2);
    const before = tf.memory().numTensors;
    const atEpochEnd: number[] = [];
    const store = new MemoryCheckpointStore();
    await train(
      m,
      fullOptions({
        epochs: 5,
        unfreeze: undefined,
        checkpoint: { store, key: 'leak', everySteps: 3 },
        onProgress: (p) => {
          if (p.kind === 'epoch') atEpochEnd.push(tf.memory().numTensors);
        },
      }),
    );
    expect(atEpochEnd).toHaveLength(5);
    expect(new Set(atEpochEnd.slice(1)).size).toBe(1);
    expect(atEpochEnd[0]).toBe(atEpochEnd[4]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('stops at the next step boundary when the signal aborts, and returns a cancelled result', async () => {
    const m = tinyMlp(4);
    const w0 = weightValues(m);
    const ac = new AbortController();
    ac.abort();
    const res = await train(m, { data: blobBatches(blobs, 32), epochs: 3, signal: ac.signal });
    expect(res.status).toBe('cancelled');
    expect(res.position).toEqual({ epoch: 0, step: 0, globalStep: 0 });
    expect(weightValues(m)).toEqual(w0);
    m.dispose();
  });

  it('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const m = tinyMlp(6);
    let bestSnapshot: number[][] = [];
    // The training loss falls every epoch, so watching it in 'max' mode never improves after epoch 0.
    const res = await train(m, {
      data: blobBatches(blobs, 32),
      epochs: 10,
      learningRate: 0.01,
      earlyStopping: { monitor: 'loss', mode: 'max', patience: 2 },
      onProgress: (p) => {
        if (p.kind === 'epoch' && p.epoch === 0) bestSnapshot = weightValues(m);
      },
    });
    expect(res.status).toBe('early-stopped');
    expect(res.history).toHaveLength(3);
    expect(res.best).toEqual({ epoch: 0, monitor: 'loss', value: res.history[0].loss });
    expect(res.restoredBestWeights).toBe(true);
    expect(weightValues(m)).toEqual(bestSnapshot);
    m.dispose();
  });

  it('leaves frozen layers untouched and trains them once unfrozen', async () => {
    const m = tinyMlp(8, 6, 3, { bn: false, dropout: false });
    freezeLayers(m, ['hidden']);
    const hidden0 = m
      .getLayer('hidden')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const head0 = m
      .getLayer('head')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    let hiddenAfterEpoch0: number[][] = [];
    await train(m, {
      data: blobBatches(blobs, 32),
      epochs: 2,
      unfreeze: [{ epoch: 1, layers: /^hid/ }],
      onProgress: (p) => {
        if (p.kind === 'epoch' && p.epoch === 0) {
          hiddenAfterEpoch0 = m
            .getLayer('hidden')
            .getWeights()
            .map((w) => Array.from(w.dataSync()));
        }
      },
    });
    expect(hiddenAfterEpoch0).toEqual(hidden0);
    expect(
      m
        .getLayer('head')
        .getWeights()
        .map((w) => Array.from(w.dataSync())),
    ).not.toEqual(head0);
    expect(
      m
        .getLayer('hidden')
        .getWeights()
        .map((w) => Array.from(w.dataSync())),
    ).not.toEqual(hidden0);
    expect(m.getLayer('hidden').trainable).toBe(true);
    m.dispose();
  });

  it('applies per-group learning rates (scale 0 keeps a group fixed)', async () => {
    const m = tinyMlp(9, 6, 3, { bn: false, dropout: false });
    const hidden0 = m
      .getLayer('hidden')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const head0 = m
      .getLayer('head')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    await train(m, {
      data: blobBatches(blobs, 32),
      epochs: 1,
      optimizer: { type: 'sgd', momentum: 0.9 },
      learningRate: 0.1,
      paramGroups: [{ name: 'backbone', layers: ['hidden'], lrScale: 0 }],
    });
    expect(
      m
        .getLayer('hidden')
        .getWeights()
        .map((w) => Array.from(w.dataSync())),
    ).toEqual(hidden0);
    expect(
      m
        .getLayer('head')
        .getWeights()
        .map((w) => Array.from(w.dataSync())),
    ).not.toEqual(head0);
    m.dispose();
  });

  it('reports progress with loss, metrics, learning rate, samples/s and ETA', async () => {
    const m = tinyMlp(10);
    const events: TrainProgress[] = [];
    await train(m, {
      data: blobBatches(blobs, 32),
      validation: blobBatches(valBlobs, 90, false),
      epochs: 2,
      lrSchedule: { type: 'linear', warmupSteps: 2 },
      progressEverySteps: 2,
      onProgress: async (p) => {
        events.push(p);
        await Promise.resolve();
      },
    });
    const steps = events.filter((e) => e.kind === 'step');
    const epochs = events.filter((e) => e.kind === 'epoch');
    expect(steps.map((s) => s.globalStep)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    for (const s of steps) {
      expect(s.stepsPerEpoch).toBe(8);
      expect(s.totalSteps).toBe(16);
      expect(s.samplesPerSec).toBeGreaterThan(0);
      expect(s.etaSeconds).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.metrics.accuracy).toBeGreaterThanOrEqual(0);
    }
    expect(epochs[1].metrics).toEqual(
      expect.objectContaining({
        accuracy: expect.any(Number),
        val_loss: expect.any(Number),
        val_accuracy: expect.any(Number),
      }),
    );
    expect(epochs[1].step).toBe(8);
    expect(steps[steps.length - 1].etaSeconds).toBe(0);
    // linear decay to 0 over the run after a 2-step warm-up
    expect(steps[0].lr).toBeCloseTo(1e-3 * (1 - 0 / 14), 8);
    m.dispose();
  });

  it('accepts a re-iterable async source (not a factory) and skips batches when resuming', async () => {
    const source: AsyncIterable<TrainBatch> = {
      [Symbol.asyncIterator]: async function* () {
        for (let i = 0; i < 4; i++) {
          const start = i * 30;
          yield {
            xs: tf.tensor2d(blobs.xs.slice(start * 6, (start + 30) * 6), [30, 6]),
            ys: tf.tensor1d(blobs.ys.slice(start, start + 30), 'int32'),
          };
        }
      },
    };
    const ref = tinyMlp(12);
    await train(ref, { data: source, epochs: 2, seed: 1 });
    const store = new MemoryCheckpointStore();
    const ac = new AbortController();
    const a = tinyMlp(12);
    const before = tf.memory().numTensors;
    await train(a, {
      data: source,
      epochs: 2,
      seed: 1,
      checkpoint: { store, key: 'k' },
      signal: ac.signal,
      progressEverySteps: 1,
      onProgress: (p) => {
        if (p.globalStep === 6) ac.abort();
      },
    });
    const b = tinyMlp(13);
    await train(b, { data: source, epochs: 2, seed: 1, checkpoint: { store, key: 'k' } });
    expect(weightValues(b)).toEqual(weightValues(ref));
    expect(tf.memory().numTensors).toBe(before + b.weights.length); // only b's weights were added
    ref.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects inconsistent options and mismatched checkpoints with typed errors', async () => {
    const m = tinyMlp(14);
    const plain: Iterable<TrainBatch> = [];
    await expect(train(m, { data: plain, epochs: 1, lrSchedule: { type: 'cosine' } })).rejects.toBeInstanceOf(
      TrainConfigError,
    );
    await expect(
      train(m, { data: blobBatches(blobs, 32), epochs: 1, earlyStopping: { monitor: 'val_accuracy' } }),
    ).rejects.toThrow(/needs validation data/);
    await expect(
      train(m, { data: blobBatches(blobs, 32), epochs: 1, clipGradNorm: 0 }),
    ).rejects.toBeInstanceOf(TrainConfigError);

    const store = new MemoryCheckpointStore();
    await train(m, { data: blobBatches(blobs, 32), epochs: 1, checkpoint: { store, key: 'k' } });
    const other = tinyMlp(15, 6, 4);
    await expect(
      train(other, { data: blobBatches(blobs, 32), epochs: 2, checkpoint: { store, key: 'k' } }),
    ).rejects.toBeInstanceOf(CheckpointError);
    await expect(
      train(tinyMlp(16), {
        data: blobBatches(blobs, 32),
        epochs: 2,
        seed: 5,
        checkpoint: { store, key: 'k' },
      }),
    ).rejects.toThrow(/seed/);
    await store.save('bad', new Uint8Array([1, 2, 3]));
    await expect(
      train(tinyMlp(17), { data: blobBatches(blobs, 32), epochs: 1, checkpoint: { store, key: 'bad' } }),
    ).rejects.toBeInstanceOf(CheckpointError);
    m.dispose();
    other.dispose();
  });
});
