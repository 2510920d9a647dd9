import * as tf from '@tensorflow/tfjs';
import {
  CheckpointError,
  MemoryCheckpointStore,
  Optimizer,
  Rng,
  TrainConfigError,
  arrayBatches,
  categoricalCrossentropy,
  clipByGlobalNorm,
  decodeCheckpoint,
  encodeCheckpoint,
  epochBatches,
  lrFactor,
  mixSeed,
  seededPermutation,
  withSeededRandom,
  type OptimizerConfig,
} from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Rng', () => {
  it('is deterministic, resumable from its state, and roughly uniform', () => {
    const a = new Rng(42);
    const seq = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => new Rng(42).next())[0]).toBe(seq[0]);
    const b = new Rng(42);
    b.next();
    b.next();
    const c = new Rng(b.state());
    expect([c.next(), c.next(), c.next()]).toEqual(seq.slice(2));
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 10000; i++) sum += r.next();
    expect(sum / 10000).toBeGreaterThan(0.48);
    expect(sum / 10000).toBeLessThan(0.52);
    expect(new Rng(1).next()).not.toBe(new Rng(2).next());
  });

  it('makes seeded permutations and mixes seeds', () => {
    const p = seededPermutation(100, 3);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...seededPermutation(100, 3)]).toEqual([...p]);
    expect([...seededPermutation(100, 4)]).not.toEqual([...p]);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(1, 2)).toBe(mixSeed(1, 2));
  });

  it('withSeededRandom makes tfjs initialisers and dropout reproducible and restores Math.random', () => {
    const original = Math.random;
    const build = () =>
      withSeededRandom(5, () => {
        const d = tf.layers.dense({ units: 4, inputShape: [3] });
        const m = tf.sequential({ layers: [d] });
        const drop = tf.dropout(tf.ones([20]), 0.5);
        const out = [Array.from(m.getWeights()[0].dataSync()), Array.from(drop.dataSync())];
        drop.dispose();
        m.dispose();
        return out;
      });
    expect(build()).toEqual(build());
    expect(Math.random).toBe(original);
    expect(() => withSeededRandom(1, () => Promise.resolve(1))).toThrow(/synchronous/);
    expect(Math.random).toBe(original);
  });
});

describe('lrFactor', () => {
  it('warms up linearly then follows the schedule', () => {
    const s = { type: 'cosine', warmupSteps: 10, totalSteps: 110 } as const;
    expect(lrFactor(s, 0)).toBeCloseTo(0.1);
    expect(lrFactor(s, 4)).toBeCloseTo(0.5);
    expect(lrFactor(s, 10)).toBeCloseTo(1);
    expect(lrFactor(s, 60)).toBeCloseTo(0.5); // half-way through the decay
    expect(lrFactor(s, 110)).toBeCloseTo(0);
    expect(lrFactor(s, 500)).toBeCloseTo(0);
  });

  it('supports linear decay to a floor, step decay by steps or epochs, and constant', () => {
    expect(lrFactor({ type: 'linear', minFactor: 0.2 }, 50, { totalSteps: 100 })).toBeCloseTo(0.6);
    expect(lrFactor({ type: 'step', gamma: 0.1, everySteps: 10 }, 25)).toBeCloseTo(0.01);
    expect(lrFactor({ type: 'step', gamma: 0.5, everyEpochs: 2 }, 45, { stepsPerEpoch: 10 })).toBeCloseTo(
      0.25,
    );
    expect(lrFactor({ type: 'constant' }, 1e6)).toBe(1);
    expect(() => lrFactor({ type: 'cosine' }, 1)).toThrow(TrainConfigError);
    expect(() => lrFactor({ type: 'step', gamma: 0.5, everyEpochs: 1 }, 1)).toThrow(TrainConfigError);
  });
});

/** Minimises sum((p - target)^2) with our optimizer and with a tfjs reference optimizer. */
function compareWithTfjs(
  cfg: OptimizerConfig,
  ref: tf.Optimizer,
  lr: number,
  steps = 5,
): [number[], number[]] {
  const init = tf.tensor1d([0.5, -1.5, 2, 0.1]);
  const target = tf.tensor1d([1, 1, -1, 0]);
  const ours = tf.variable(init.clone());
  const theirs = tf.variable(init.clone());
  const opt = new Optimizer(cfg);
  const loss = (v: tf.Variable) => () => tf.sum<tf.Scalar>(tf.square(tf.sub(v, target)));
  for (let i = 0; i < steps; i++) {
    const g = tf.variableGrads(loss(ours), [ours]);
    opt.apply([{ key: 0, variable: ours, lr, weightDecay: 0 }], [g.grads[ours.name]]);
    g.value.dispose();
    g.grads[ours.name].dispose();
    ref.minimize(loss(theirs), false, [theirs]);
  }
  const out: [number[], number[]] = [Array.from(ours.dataSync()), Array.from(theirs.dataSync())];
  opt.dispose();
  ref.dispose();
  [init, target, ours, theirs].forEach((t) => t.dispose());
  return out;
}

describe('Optimizer', () => {
  it('adam matches tf.train.adam', () => {
    const [a, b] = compareWithTfjs({ type: 'adam' }, tf.train.adam(0.1), 0.1, 8);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 4));
  });

  it('sgd with momentum matches tf.train.momentum (plain and nesterov)', () => {
    const [a, b] = compareWithTfjs({ type: 'sgd', momentum: 0.9 }, tf.train.momentum(0.05, 0.9), 0.05, 6);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
    const [c, d] = compareWithTfjs(
      { type: 'sgd', momentum: 0.9, nesterov: true },
      tf.train.momentum(0.05, 0.9, true),
      0.05,
      6,
    );
    c.forEach((v, i) => expect(v).toBeCloseTo(d[i], 5));
  });

  it('adamw decays weights independently of the gradient; adam couples L2 into the gradient', () => {
    const p = tf.variable(tf.tensor1d([2, -4]));
    const zero = tf.zeros([2]);
    const w = new Optimizer({ type: 'adamw', weightDecay: 0.1 });
    w.apply([{ key: 0, variable: p, lr: 0.5, weightDecay: 0.1 }], [zero]);
    expect(Array.from(p.dataSync())).toEqual([2 * (1 - 0.05), -4 * (1 - 0.05)].map(Math.fround));
    const q = tf.variable(tf.tensor1d([2, -4]));
    const a = new Optimizer({ type: 'adam', weightDecay: 0.1 });
    a.apply([{ key: 0, variable: q, lr: 0.5, weightDecay: 0.1 }], [zero]);
    // Adam normalises the L2 gradient: each weight moves by ~lr towards 0.
    const qv = Array.from(q.dataSync());
    expect(qv[0]).toBeCloseTo(1.5, 4);
    expect(qv[1]).toBeCloseTo(-3.5, 4);
    expect(w.defaultWeightDecay).toBe(0.1);
    expect(new Optimizer({ type: 'adamw' }).defaultWeightDecay).toBe(0.01);
    [p, q, zero].forEach((t) => t.dispose());
    w.dispose();
    a.dispose();
  });

  it('round-trips its state (slots and step counts)', () => {
    const p = tf.variable(tf.tensor1d([1, 2, 3]));
    const g = tf.tensor1d([0.1, -0.2, 0.3]);
    const o1 = new Optimizer({ type: 'adam' });
    o1.apply([{ key: 7, variable: p, lr: 0.1, weightDecay: 0 }], [g]);
    const state = o1.getState();
    expect(state.params).toHaveLength(1);
    expect(state.params[0].count).toBe(1);
    expect(Object.keys(state.params[0].slots).sort()).toEqual(['m', 'v']);
    const o2 = new Optimizer({ type: 'adam' });
    o2.setState(state);
    const p2 = tf.variable(p.clone());
    o1.apply([{ key: 7, variable: p, lr: 0.1, weightDecay: 0 }], [g]);
    o2.apply([{ key: 7, variable: p2, lr: 0.1, weightDecay: 0 }], [g]);
    expect(Array.from(p2.dataSync())).toEqual(Array.from(p.dataSync()));
    expect(() => new Optimizer({ type: 'sgd' }).setState(state)).toThrow(TrainConfigError);
    expect(() => new Optimizer({ type: 'adam', beta1: 1 })).toThrow(TrainConfigError);
    state.params.forEach((s) => Object.values(s.slots).forEach((t) => t.dispose()));
    [p, p2, g].forEach((t) => t.dispose());
    o1.dispose();
    o2.dispose();
  });
});

describe('losses and clipping', () => {
  it('computes cross-entropy with label smoothing from probabilities or logits', () => {
    const probs = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const plain = categoricalCrossentropy(labels, probs);
    expect(plain.dataSync()[0]).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8)) / 2, 5);
    // eps = 0.3 over 3 classes: targets 0.8 / 0.1 / 0.1
    const smooth = categoricalCrossentropy(labels, probs, { labelSmoothing: 0.3 });
    const row0 = -(0.8 * Math.log(0.7) + 0.1 * Math.log(0.2) + 0.1 * Math.log(0.1));
    const row1 = -(0.1 * Math.log(0.1) + 0.1 * Math.log(0.1) + 0.8 * Math.log(0.8));
    expect(smooth.dataSync()[0]).toBeCloseTo((row0 + row1) / 2, 5);
    const oneHot = tf.oneHot(labels, 3);
    expect(categoricalCrossentropy(oneHot, probs).dataSync()[0]).toBeCloseTo(plain.dataSync()[0], 6);
    const logits = tf.log(probs);
    expect(categoricalCrossentropy(labels, logits, { outputs: 'logits' }).dataSync()[0]).toBeCloseTo(
      plain.dataSync()[0],
      5,
    );
    [probs, labels, plain, smooth, oneHot, logits].forEach((t) => t.dispose());
  });

  it('clips by global norm only when the norm exceeds the limit', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor1d([0, 4]); // global norm 5
    const clipped = clipByGlobalNorm([a, null, b], 1) as tf.Tensor[];
    expect(clipped[1]).toBeNull();
    expect(Array.from(clipped[0].dataSync())).toEqual([0.6, 0].map(Math.fround));
    expect(Array.from(clipped[2].dataSync())).toEqual([0, 0.8].map(Math.fround));
    const kept = clipByGlobalNorm([a, b], 10) as tf.Tensor[];
    expect(Array.from(kept[0].dataSync())).toEqual([3, 0]);
    [a, b, clipped[0], clipped[2], ...kept].forEach((t) => t.dispose());
  });
});

describe('checkpoint encoding and stores', () => {
  it('round-trips a header and typed tensors', () => {
    const bytes = encodeCheckpoint({ hello: 'world', n: 3 }, [
      { name: 'a', dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4.5]) },
      { name: 'b', dtype: 'int32', shape: [3], data: new Int32Array([-1, 0, 7]) },
      { name: 'c', dtype: 'bool', shape: [1], data: new Uint8Array([1]) },
    ]);
    const { header, tensors } = decodeCheckpoint<{ hello: string; n: number }>(bytes);
    expect(header).toEqual({ hello: 'world', n: 3 });
    expect(Array.from(tensors.get('a')!.data)).toEqual([1, 2, 3, 4.5]);
    expect(tensors.get('a')!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([-1, 0, 7]);
    expect(tensors.get('c')!.dtype).toBe('bool');
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(new Uint8Array(20))).toThrow(CheckpointError);
  });

  it('memory store copies data and returns null for unknown keys', async () => {
    const s = new MemoryCheckpointStore();
    const d = new Uint8Array([1, 2, 3]);
    await s.save('k', d);
    d[0] = 9;
    expect(Array.from((await s.load('k'))!)).toEqual([1, 2, 3]);
    expect(await s.load('nope')).toBeNull();
    expect(s.keys()).toEqual(['k']);
  });
});

describe('arrayBatches / epochBatches', () => {
  const source = arrayBatches({
    count: 10,
    batchSize: 4,
    shuffle: true,
    sampleShape: [1],
    fill: (i, xs, o) => {
      xs[o] = i;
      return i % 2;
    },
  });

  async function collect(epoch: number, startStep: number): Promise<number[][]> {
    const out: number[][] = [];
    for await (const b of epochBatches(source, { epoch, startStep, seed: 3 })) {
      out.push(Array.from(b.xs.dataSync()));
      b.xs.dispose();
      b.ys.dispose();
    }
    return out;
  }

  it('yields a seeded permutation per epoch, resumable at any step', async () => {
    expect(source.stepsPerEpoch).toBe(3);
    const e0 = await collect(0, 0);
    expect(e0.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(e0.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await collect(0, 0)).toEqual(e0);
    expect(await collect(0, 1)).toEqual(e0.slice(1));
    expect(await collect(1, 0)).not.toEqual(e0);
  });
});
