import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { MemoryCheckpointStore, Rng, arrayBatches, train, withSeededRandom, type TrainOptions } from '.';
import { weightValues } from './test-helpers';

/** A conv net on the wasm backend (with the project's training kernels) resumes bit-exactly too. */
function convNet(seed: number): tf.LayersModel {
  return withSeededRandom(seed, () =>
    tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    }),
  );
}

const rng = new Rng(3);
const N = 96;
const images = Float32Array.from({ length: N * 64 }, () => rng.next());
const labels = Int32Array.from({ length: N }, (_, i) => i % 2);
for (let i = 0; i < N; i++) if (labels[i] === 1) for (let k = 0; k < 32; k++) images[i * 64 + k] += 1; // top half brighter

const options = (extra: Partial<TrainOptions> = {}): TrainOptions => ({
  data: arrayBatches({
    count: N,
    batchSize: 16,
    shuffle: true,
    sampleShape: [8, 8, 1],
    fill: (i, xs, o) => {
      xs.set(images.subarray(i * 64, (i + 1) * 64), o);
      return labels[i];
    },
  }),
  epochs: 3,
  seed: 4,
  optimizer: { type: 'adam' },
  learningRate: 0.01,
  lrSchedule: { type: 'cosine', warmupSteps: 3 },
  clipGradNorm: 5,
  ...extra,
});

describe('train on wasm', () => {
  it('resumes a conv net (conv, depthwise, batch norm, pooling, dropout) to identical weights', async () => {
    const info = await initBackend({ prefer: 'wasm' });
    expect(info.name).toBe('wasm');
    const ref = convNet(1);
    const refRes = await train(ref, options());
    expect(refRes.history[2].loss).toBeLessThan(refRes.history[0].loss);

    const store = new MemoryCheckpointStore();
    const ac = new AbortController();
    const first = convNet(1);
    const stopped = await train(
      first,
      options({
        checkpoint: { store, key: 'wasm' },
        signal: ac.signal,
        progressEverySteps: 1,
        onProgress: (p) => {
          if (p.globalStep === 8) ac.abort(); // epoch 1, step 2
        },
      }),
    );
    expect(stopped.status).toBe('cancelled');
    const resumed = convNet(2);
    const before = tf.memory().numTensors;
    await train(resumed, options({ checkpoint: { store, key: 'wasm' } }));
    expect(tf.memory().numTensors).toBe(before);
    expect(weightValues(resumed)).toEqual(weightValues(ref));
    [ref, first, resumed].forEach((m) => m.dispose());
  });
});
