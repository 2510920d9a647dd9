import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { computeLoss, paramRange } from './replica';
import type { OptimizerSpec } from './protocol';
import { setLearningRate, tfjsOptimizer } from './test-optimizers';
import { DataParallelTrainer, shardSizes } from './data-parallel-trainer';

function buildModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 1],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

function batch(seed: number, n: number) {
  const x = tf.randomUniform([n, 8, 8, 1], -1, 1, 'float32', seed);
  const y = tf.oneHot(tf.randomUniform([n], 0, 3, 'int32', seed + 1), 3).toFloat();
  const out = {
    x: { data: x.dataSync<'float32'>().slice(), shape: x.shape },
    y: { data: y.dataSync<'float32'>().slice(), shape: y.shape },
  };
  tf.dispose([x, y]);
  return out;
}

describe('DataParallelTrainer', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('splits batches evenly', () => {
    expect(shardSizes(10, 2)).toEqual([5, 5]);
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shardSizes(1, 2)).toEqual([1]);
  });

  it('splits the parameters into even contiguous ranges, across tensor boundaries', () => {
    expect([0, 1].map((i) => paramRange(1_199_882, 2, i))).toEqual([
      [0, 599_941],
      [599_941, 1_199_882],
    ]);
    expect([0, 1, 2].map((i) => paramRange(10, 3, i))).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect(paramRange(5, 1, 0)).toEqual([0, 5]);
    expect([0, 1, 2].map((i) => paramRange(2, 3, i))).toEqual([
      [0, 1],
      [1, 2],
      [2, 2],
    ]);
  });

  it.each<[string, OptimizerSpec]>([
    ['adam', { name: 'adam', learningRate: 0.05 }],
    ['momentum', { name: 'momentum', learningRate: 0.1, momentum: 0.9 }],
    ['rmsprop', { name: 'rmsprop', learningRate: 0.01, decay: 0.9, momentum: 0.5 }],
    ['momentum (Nesterov)', { name: 'momentum', learningRate: 0.05, momentum: 0.8, useNesterov: true }],
    ['sgd', { name: 'sgd', learningRate: 0.1 }],
  ])(
    'with a sharded %s, trains to the same weights as one optimizer over the whole batch',
    async (_name, spec) => {
      const reference = buildModel();
      const replicated = buildModel();
      replicated.setWeights(reference.getWeights());
      const trainer = await DataParallelTrainer.create({
        model: replicated,
        workers: 2,
        optimizer: spec,
        loss: 'softmaxCrossEntropy',
      });
      const opt = tfjsOptimizer(spec);
      try {
        for (let step = 0; step < 4; step++) {
          const { x, y } = batch(30 + step, 8);
          if (step === 2) {
            trainer.setLearningRate(spec.learningRate / 2);
            setLearningRate(opt, spec.learningRate / 2);
          }
          await trainer.trainBatch(x, y);
          tf.tidy(() => {
            const xs = tf.tensor(x.data, x.shape);
            const ys = tf.tensor(y.data, y.shape);
            opt.minimize(() => computeLoss('softmaxCrossEntropy', ys, reference.apply(xs) as tf.Tensor));
          });
        }
        const got = await trainer.getWeights();
        const before = buildModel().getWeights();
        reference.getWeights().forEach((w, i) => {
          const want = w.dataSync();
          // Every variable moved (both replicas' shares were updated and exchanged), and to where one optimizer takes it.
          expect(Math.max(...want.map((v, j) => Math.abs(v - before[i].dataSync()[j])))).toBeGreaterThan(
            1e-3,
          );
          got[i].forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThan(1e-4));
        });
        // Replica 1 holds the same weights: its next step's loss equals replica 0's on the same rows.
        const { x, y } = batch(99, 2);
        const twice = {
          x: { data: new Float32Array([...x.data, ...x.data]), shape: [4, ...x.shape.slice(1)] },
          y: { data: new Float32Array([...y.data, ...y.data]), shape: [4, 3] },
        };
        const expected = tf.tidy(
          () =>
            computeLoss(
              'softmaxCrossEntropy',
              tf.tensor(y.data, y.shape),
              reference.apply(tf.tensor(x.data, x.shape)) as tf.Tensor,
            ).dataSync()[0],
        );
        const { loss } = await trainer.trainBatch(twice.x, twice.y);
        expect(loss).toBeCloseTo(expected, 4);
        tf.dispose(before);
      } finally {
        opt.dispose();
        await trainer.dispose();
        reference.dispose();
        replicated.dispose();
      }
    },
    60_000,
  );

  it('trains two replicas to the same weights as single-process SGD on the whole batch', async () => {
    const reference = buildModel();
    const replicated = buildModel();
    replicated.setWeights(reference.getWeights());
    const trainer = await DataParallelTrainer.create({
      model: replicated,
      workers: 2,
      optimizer: { name: 'sgd', learningRate: 0.1 },
      loss: 'softmaxCrossEntropy',
    });
    try {
      expect(trainer.backend).toBe('wasm');
      const opt = tf.train.sgd(0.1);
      for (let step = 0; step < 3; step++) {
        const { x, y } = batch(10 + step, step === 2 ? 7 : 8); // an odd batch gives unequal shards
        const { loss } = await trainer.trainBatch(x, y);
        const expected = tf.tidy(() => {
          const xs = tf.tensor(x.data, x.shape);
          const ys = tf.tensor(y.data, y.shape);
          return opt
            .minimize(() => computeLoss('softmaxCrossEntropy', ys, reference.apply(xs) as tf.Tensor), true)!
            .dataSync()[0];
        });
        expect(loss).toBeCloseTo(expected, 4);
      }
      const got = await trainer.getWeights();
      reference.getWeights().forEach((w, i) => {
        const want = w.dataSync();
        got[i].forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThan(1e-4));
      });
      await trainer.copyWeightsTo(replicated);
      expect(replicated.getWeights()[0].dataSync()).toEqual(got[0]);
      opt.dispose();
    } finally {
      await trainer.dispose();
      reference.dispose();
      replicated.dispose();
    }
  }, 60_000);

  it('reports a worker failure instead of hanging', async () => {
    const model = buildModel();
    const trainer = await DataParallelTrainer.create({
      model,
      workers: 1,
      optimizer: { name: 'adam', learningRate: 0.01 },
      loss: 'softmaxCrossEntropy',
    });
    try {
      await expect(
        trainer.trainBatch({ data: new Float32Array(2 * 5), shape: [2, 5] }, batch(1, 2).y),
      ).rejects.toThrow(/worker failed/);
    } finally {
      await trainer.dispose();
      model.dispose();
    }
  }, 60_000);
});
