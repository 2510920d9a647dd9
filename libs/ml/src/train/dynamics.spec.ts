import * as tf from '@tensorflow/tfjs';
import { auroc, injectLabelNoise, sampleScores } from '../dynamics';
import {
  arrayBatches,
  decodeTrainingCheckpoint,
  encodeTrainingCheckpoint,
  MemoryCheckpointStore,
  TrainConfigError,
  train,
  type TrainOptions,
} from '.';
import { makeBlobs, tinyMlp, weightValues } from './test-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const blobs = makeBlobs(300, 5);
const noisy = injectLabelNoise(blobs.ys, blobs.classes, { kind: 'symmetric', rate: 0.2, seed: 3 });

function options(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    data: arrayBatches({
      count: blobs.count,
      batchSize: 32,
      shuffle: true,
      sampleShape: [blobs.dim],
      fill: (i, xs, o) => {
        xs.set(blobs.xs.subarray(i * blobs.dim, (i + 1) * blobs.dim), o);
        return noisy.labels[i];
      },
    }),
    epochs: 6,
    seed: 7,
    learningRate: 0.02,
    dynamics: { samples: blobs.count },
    ...extra,
  };
}

describe('training dynamics', () => {
  it('records every sample every epoch from the training step, consistent with its accuracy', async () => {
    const m = tinyMlp(4);
    const res = await train(m, options());
    const d = res.dynamics;
    expect(d).toBeDefined();
    if (!d) return;
    expect(d.epochs).toBe(6);
    expect(d.samples).toBe(300);
    expect(Array.from(d.label)).toEqual(Array.from(noisy.labels));
    expect(d.prob.every((p) => p >= 0 && p <= 1)).toBe(true);
    for (let e = 0; e < d.epochs; e++) {
      const row = d.margin.subarray(e * d.samples, (e + 1) * d.samples);
      // Margin > 0 <=> the assigned label is the arg-max: the epoch's own training accuracy.
      const correct = row.filter((x) => x > 0).length;
      expect(correct / d.samples).toBeCloseTo(res.history[e].accuracy, 6);
    }
    // The flipped labels are the hard-to-fit ones: low AUM ranks them first.
    const scores = sampleScores(d);
    const a = auroc(
      scores.map((s) => -s.aum),
      noisy.flipped,
    );
    expect(a).toBeGreaterThan(0.9);
    m.dispose();
  });

  it('a run cancelled mid-epoch and resumed ends with the statistics of an uninterrupted one', async () => {
    const ref = tinyMlp(4);
    const refRes = await train(ref, options());
    const store = new MemoryCheckpointStore();
    const ac = new AbortController();
    const first = tinyMlp(4);
    const r1 = await train(
      first,
      options({
        checkpoint: { store, key: 'run' },
        signal: ac.signal,
        progressEverySteps: 1,
        onProgress: (p) => {
          if (p.kind === 'step' && p.globalStep === 23) ac.abort(); // epoch 2, step 3
        },
      }),
    );
    expect(r1.status).toBe('cancelled');
    expect(r1.dynamics?.epochs).toBe(3);
    first.dispose();
    const resumed = tinyMlp(99);
    const r2 = await train(resumed, options({ checkpoint: { store, key: 'run' } }));
    expect(r2.resumedFrom?.globalStep).toBe(23);
    expect(weightValues(resumed)).toEqual(weightValues(ref));
    const a = refRes.dynamics;
    const b = r2.dynamics;
    expect(b?.epochs).toBe(a?.epochs);
    expect(Array.from(b?.prob ?? [])).toEqual(Array.from(a?.prob ?? []));
    expect(Array.from(b?.margin ?? [])).toEqual(Array.from(a?.margin ?? []));
    expect(Array.from(b?.other ?? [])).toEqual(Array.from(a?.other ?? []));
    ref.dispose();
    resumed.dispose();
  });

  it('round-trips through the checkpoint codec and rejects corrupt dynamics', async () => {
    const store = new MemoryCheckpointStore();
    const m = tinyMlp(4);
    await train(m, options({ epochs: 2, checkpoint: { store, key: 'k' } }));
    const bytes = await store.load('k');
    expect(bytes).not.toBeNull();
    const ck = decodeTrainingCheckpoint(bytes as Uint8Array);
    expect(ck.dynamics?.epochs).toBe(2);
    const again = decodeTrainingCheckpoint(encodeTrainingCheckpoint(ck));
    expect(Array.from(again.dynamics?.margin ?? [])).toEqual(Array.from(ck.dynamics?.margin ?? []));
    const bad = { ...ck, dynamics: { ...ck.dynamics!, label: ck.dynamics!.label.map(() => 9) } };
    expect(() => decodeTrainingCheckpoint(encodeTrainingCheckpoint(bad))).toThrow(/label outside/);
    m.dispose();
  });

  it('needs sample ids on every batch', async () => {
    const m = tinyMlp(4);
    const data = [{ xs: tf.zeros([4, 6]), ys: tf.tensor1d([0, 1, 2, 0], 'int32') }];
    await expect(train(m, { data, epochs: 1, dynamics: { samples: 4 } })).rejects.toBeInstanceOf(
      TrainConfigError,
    );
    m.dispose();
  });
});
