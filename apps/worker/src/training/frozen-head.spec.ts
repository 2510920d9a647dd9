import * as tf from '@tensorflow/tfjs';
import type { ImageShardIndex, IndexedSample, ShardSource } from '@modelsmith/datasets';
import {
  buildClassifier,
  collectViewPredictions,
  initBackend,
  ModelZoo,
  MULTI_LAYER_FEATURES,
  ReplicaPool,
  Rng,
  type BackboneSpec,
  type Classifier,
  type LoadedBackbone,
  type Normalization,
} from '@modelsmith/ml';
import { splitFeatures, standardize, trainHeadOnFeatures } from './frozen-head';
import { shardEpochs } from './shard-batches';
import { StageClock } from './stage-clock';

describe('standardize', () => {
  it('standardizes the columns, and the folded dense layer gives on raw features what it gave on standardized ones', () => {
    const dim = 4;
    const count = 12;
    // Columns on very different scales, one constant.
    const raw = Float32Array.from({ length: count * dim }, (_, i) => {
      const [r, d] = [Math.floor(i / dim), i % dim];
      return d === 3 ? 2.5 : Math.sin(r * 1.7 + d) * 10 ** d + d;
    });
    const f = { values: Float32Array.from(raw), labels: new Int32Array(count), count };
    const s = standardize(f, dim);
    for (let d = 0; d < 3; d++) {
      const col = Array.from({ length: count }, (_, r) => f.values[r * dim + d]);
      const mean = col.reduce((a, b) => a + b, 0) / count;
      expect(mean).toBeCloseTo(0, 4);
      expect(Math.sqrt(col.reduce((a, b) => a + b * b, 0) / count)).toBeCloseTo(1, 4);
    }
    const dense = tf.layers.dense({
      units: 3,
      inputShape: [dim],
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
    });
    const model = tf.sequential({ layers: [dense] });
    const onStandardized = (
      model.predict(tf.tensor2d(f.values, [count, dim])) as tf.Tensor
    ).arraySync() as number[][];
    s.fold([dense]);
    const onRaw = (model.predict(tf.tensor2d(raw, [count, dim])) as tf.Tensor).arraySync() as number[][];
    onRaw.forEach((row, r) => row.forEach((v, k) => expect(v).toBeCloseTo(onStandardized[r][k], 3)));
    model.dispose();
  });
});

const SIDE = 8;
const CLASSES = ['dark', 'bright', 'striped'];

/** 3-channel 8x8 images of three kinds (seeded noise): 60 train, 20 validation, in one shard. */
function imageData(): { index: ImageShardIndex; shards: ShardSource } {
  const count = 80;
  const rb = SIDE * SIDE * 3;
  const pixels = new Uint8Array(count * rb);
  const rng = new Rng(11);
  const samples: IndexedSample[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    for (let p = 0; p < SIDE * SIDE; p++)
      for (let c = 0; c < 3; c++) {
        const base = label === 0 ? 40 : label === 1 ? 190 : (p % SIDE) % 2 ? 220 : 30;
        pixels[i * rb + p * 3 + c] = Math.max(
          0,
          Math.min(255, base + Math.floor(rng.next() * 60) - 30 + c * 5),
        );
      }
    samples.push({
      shard: 0,
      offset: i,
      label,
      split: i < 60 ? 'train' : 'validation',
      hash: String(i),
      path: `${i}.png`,
    });
  }
  const index: ImageShardIndex = {
    version: 1,
    kind: 'image',
    height: SIDE,
    width: SIDE,
    channels: 3,
    recordBytes: rb,
    labels: CLASSES,
    shards: [{ key: 's0', count }],
    samples,
  };
  return { index, shards: { get: async () => pixels } };
}

/** A "pretrained" backbone of standard layers (a replica thread can load it), with joined features. */
function classifierOf(features: 'last' | 'multi'): Classifier {
  const spec: BackboneSpec = {
    ...new ModelZoo().get('small_cnn_xs'),
    id: 'frozen_head_test',
    pretrained: true,
    input: { height: SIDE, width: SIDE, channels: 3 },
  };
  const input = tf.input({ shape: [SIDE, SIDE, 3] });
  const a = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'block_a',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      name: 'block_b',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(a) as tf.SymbolicTensor;
  const backbone: LoadedBackbone = {
    spec,
    input: spec.input,
    model: tf.model({ inputs: input, outputs: b }),
  };
  if (features === 'multi') {
    (MULTI_LAYER_FEATURES as Record<string, readonly string[]>)[spec.id] = ['block_a', 'block_b'];
  }
  return buildClassifier(backbone, { numClasses: 3, seed: 3, features });
}

const NORM: Normalization = { kind: 'unit' };
const SHAPE = { height: SIDE, width: SIDE, channels: 3 as const };

describe('splitFeatures on replica threads (the first trial uses both cores)', () => {
  let pool: ReplicaPool | undefined;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterEach(async () => {
    await pool?.dispose();
    pool = undefined;
  });

  /** The data, a classifier's feature extractor, and its one-thread pass over `split` (the reference). */
  async function reference(
    features: 'last' | 'multi',
    split: 'train' | 'validation',
    opts: { batchSize: number; seed: number; view?: 'image' | 'mirror' },
  ) {
    const { index, shards } = imageData();
    const classifier = classifierOf(features);
    const dim = classifier.features.shape[1] ?? 0;
    const extractor = tf.model({ inputs: classifier.model.inputs, outputs: classifier.features });
    const single = await splitFeatures(extractor, dim, shards, index, split, NORM, SHAPE, opts);
    return { index, shards, classifier, dim, extractor, single: single! };
  }
  const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
    a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

  it.each(['image', 'mirror'] as const)(
    'view %s: the vectors of the one-thread pass within 1e-5, a share of the batches computed by the replica',
    async (view) => {
      const opts = { batchSize: 4, seed: 1, view };
      const { index, shards, classifier, dim, extractor, single } = await reference('multi', 'train', opts);
      expect(dim).toBe(6 + 8);
      pool = await ReplicaPool.create(classifier.model, { replicas: 1 });
      const rows = { here: 0, replica: 0 };
      const parallel = await splitFeatures(extractor, dim, shards, index, 'train', NORM, SHAPE, {
        ...opts,
        parallel: { pool, layer: classifier.features.sourceLayer.name },
        onBatch: (n, replica) => void (rows[replica ? 'replica' : 'here'] += n),
      });
      expect(rows.here + rows.replica).toBe(60);
      expect(rows.replica).toBeGreaterThan(0);
      expect(parallel!.count).toBe(60);
      expect(Array.from(parallel!.labels)).toEqual(Array.from(single.labels));
      expect(Array.from(parallel!.labels)).toEqual(Array.from({ length: 60 }, (_, i) => i % 3));
      expect(maxAbsDiff(single.values, parallel!.values)).toBeLessThan(1e-5);
      // Not a pass of zeros: the features vary.
      expect(Math.max(...single.values)).toBeGreaterThan(0.01);
      classifier.model.dispose();
    },
  );

  it('a pool still starting, then a replica that fails: every vector still computed (here), equal to the one-thread pass', async () => {
    const opts = { batchSize: 4, seed: 1 };
    const { index, shards, classifier, dim, extractor, single } = await reference('last', 'validation', opts);
    let calls = 0;
    const failing = {
      size: 1,
      features: () => {
        calls++;
        return Promise.reject(new Error('replica died'));
      },
    };
    const parallel = await splitFeatures(extractor, dim, shards, index, 'validation', NORM, SHAPE, {
      ...opts,
      parallel: { pool: Promise.resolve(failing), layer: classifier.features.sourceLayer.name },
    });
    expect(calls).toBeGreaterThan(0);
    expect(Array.from(parallel!.values)).toEqual(Array.from(single.values));
    expect(Array.from(parallel!.labels)).toEqual(Array.from(single.labels));
    classifier.model.dispose();
  });

  it('held (a head training on this thread): every batch goes to the replica, the vectors those of the one-thread pass', async () => {
    const opts = { batchSize: 4, seed: 1, view: 'mirror' as const };
    const { index, shards, classifier, dim, extractor, single } = await reference('multi', 'train', opts);
    pool = await ReplicaPool.create(classifier.model, { replicas: 1 });
    const rows = { here: 0, replica: 0 };
    // Never released during the pass.
    const held = await splitFeatures(extractor, dim, shards, index, 'train', NORM, SHAPE, {
      ...opts,
      parallel: { pool, layer: classifier.features.sourceLayer.name },
      hold: new Promise(() => undefined),
      onBatch: (n, replica) => void (rows[replica ? 'replica' : 'here'] += n),
    });
    expect(rows).toEqual({ here: 0, replica: 60 });
    expect(maxAbsDiff(single.values, held!.values)).toBeLessThan(1e-5);
    expect(Array.from(held!.labels)).toEqual(Array.from(single.labels));
    classifier.model.dispose();
  });

  it('held without replicas (the pool did not start): no batch computed until the hold ends, then all here', async () => {
    const opts = { batchSize: 4, seed: 1 };
    const { index, shards, classifier, dim, extractor, single } = await reference('last', 'validation', opts);
    let release: () => void = () => undefined;
    let released = false;
    const early: number[] = [];
    const rows = { here: 0, replica: 0 };
    const pass = splitFeatures(extractor, dim, shards, index, 'validation', NORM, SHAPE, {
      ...opts,
      parallel: { pool: Promise.resolve(undefined), layer: classifier.features.sourceLayer.name },
      hold: new Promise<void>((r) => (release = r)),
      onBatch: (n, replica) => {
        if (!released) early.push(n);
        rows[replica ? 'replica' : 'here'] += n;
      },
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    released = true;
    release();
    const held = await pass;
    expect(early).toEqual([]);
    expect(rows).toEqual({ here: 20, replica: 0 });
    expect(Array.from(held!.values)).toEqual(Array.from(single.values));
    classifier.model.dispose();
  });

  it('trainHeadOnFeatures with prefetched validation views: the replica computes them while the head trains; the same predictions, also after a cancelled training', async () => {
    const { index, shards } = imageData();
    const direct = async (classifier: Classifier) =>
      collectViewPredictions(
        classifier.model,
        shardEpochs(shards, index, 'validation', 8, NORM, SHAPE, false),
        {
          tta: { views: ['mirror'], normalization: NORM },
        },
      );
    for (const cancel of [false, true]) {
      const classifier = classifierOf('multi');
      pool = await ReplicaPool.create(classifier.model, { replicas: 1 });
      const replicaPool = pool;
      // The replica's rows per pass, in the order of its batches' arrival; `training` while the head trains.
      let training = false;
      let rowsWhileTraining = 0;
      const counted = {
        size: replicaPool.size,
        features: (a: Parameters<ReplicaPool['features']>[0]) => {
          if (training) rowsWhileTraining += a.x.shape[0] ?? 0;
          return replicaPool.features(a);
        },
      };
      const abort = new AbortController();
      const result = await trainHeadOnFeatures(
        classifier,
        { shards, index, normalization: NORM, input: SHAPE },
        {
          epochs: 200,
          earlyStopping: false,
          learningRate: 3e-2,
          batchSize: 8,
          labelSmoothing: 0,
          seed: 1,
          signal: abort.signal,
          views: ['image'],
          replicas: counted,
          prefetchViews: ['mirror'],
          clock: new (class extends StageClock {
            override async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
              if (stage !== 'head') return super.time(stage, fn);
              training = true;
              if (cancel) setTimeout(() => abort.abort(), 50);
              try {
                return await super.time(stage, fn);
              } finally {
                training = false;
              }
            }
          })(),
        },
      );
      expect(result.status).toBe(cancel ? 'cancelled' : 'completed');
      // The 20 mirror images reached the replica while the head trained (200 epochs of 8 steps).
      if (!cancel) expect(rowsWhileTraining).toBe(20);
      const cached = await result.validationPredictions!(['mirror']);
      const d = await direct(classifier);
      for (const k of ['plain', 'averaged'] as const) {
        expect(Array.from(cached![k].labels)).toEqual(Array.from(d[k].labels));
        const ref = Array.from(d[k].probs);
        expect(Math.max(...Array.from(cached![k].probs).map((v, i) => Math.abs(v - ref[i])))).toBeLessThan(
          1e-4,
        );
      }
      await pool.dispose();
      pool = undefined;
      classifier.model.dispose();
    }
  });

  it('trainHeadOnFeatures on replicas: its validation predictions from the cached vectors equal the model predictions (with and without the mirror)', async () => {
    const { index, shards } = imageData();
    const classifier = classifierOf('multi');
    pool = await ReplicaPool.create(classifier.model, { replicas: 1 });
    const result = await trainHeadOnFeatures(
      classifier,
      { shards, index, normalization: NORM, input: SHAPE },
      {
        epochs: 20,
        learningRate: 3e-2,
        batchSize: 8,
        labelSmoothing: 0,
        seed: 1,
        signal: new AbortController().signal,
        views: ['image'],
        replicas: pool,
      },
    );
    expect(result.status).toBe('completed');
    const cached = await result.validationPredictions!(['mirror']);
    const batches = shardEpochs(shards, index, 'validation', 8, NORM, SHAPE, false);
    const direct = await collectViewPredictions(classifier.model, batches, {
      tta: { views: ['mirror'], normalization: NORM },
    });
    const probs = (k: 'plain' | 'averaged', of: typeof direct) => Array.from(of[k].probs);
    for (const k of ['plain', 'averaged'] as const) {
      expect(Array.from(cached![k].labels)).toEqual(Array.from(direct[k].labels));
      const d = probs(k, direct);
      expect(Math.max(...probs(k, cached!).map((v, i) => Math.abs(v - d[i])))).toBeLessThan(1e-4);
    }
    // The head learned the three kinds (validation).
    const plain = probs('plain', cached!);
    const labels = Array.from(cached!.plain.labels);
    const correct = labels.filter((y, i) => {
      const p = plain.slice(i * 3, i * 3 + 3);
      return p.indexOf(Math.max(...p)) === y;
    }).length;
    expect(correct / 20).toBeGreaterThan(0.9);
    classifier.model.dispose();
  });
});
