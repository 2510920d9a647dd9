import * as tf from '@tensorflow/tfjs';
import {
  CheckpointError,
  MemoryCheckpointStore,
  Rng,
  decodeCheckpoint,
  decodeDynamics,
  decodeTrainingCheckpoint,
  encodeCheckpoint,
  encodeDynamics,
  encodeTrainingCheckpoint,
  TrainingDynamics,
  train,
  type CheckpointErrorReason,
  type RawTensor,
  type TensorValues,
  type TrainingCheckpoint,
} from '.';
import { blobBatches, makeBlobs, tinyMlp } from './test-helpers';

const f32 = (shape: number[], seed: number): TensorValues => {
  const r = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: size }, () => r.next() - 0.5) };
};

/** A checkpoint of a two-weight model with Adam state, history (one epoch without samples) and best weights. */
function sample(): TrainingCheckpoint {
  return {
    seed: 7,
    position: { epoch: 2, step: 3, globalStep: 19 },
    rng: [1, 0xffffffff, 3, 0x80000000],
    weights: [
      { name: 'dense/kernel', values: f32([2, 3], 1) },
      { name: 'dense/bias', values: f32([3], 2) },
    ],
    trainable: [true, false],
    optimizer: {
      type: 'adam',
      params: [
        { key: 0, count: 19, slots: { m: f32([2, 3], 3), v: f32([2, 3], 4) } },
        { key: 1, count: 19, slots: { m: f32([3], 5), v: f32([3], 6) } },
      ],
    },
    history: [
      {
        epoch: 0,
        loss: 1.25,
        accuracy: 0.5,
        lr: 0.01,
        steps: 8,
        samples: 240,
        seconds: 0.5,
        val_loss: 1.5,
        val_accuracy: 0.25,
      },
      { epoch: 1, loss: NaN, accuracy: NaN, lr: 0.01, steps: 0, samples: 0, seconds: 0 },
    ],
    epochAccum: { steps: 3, lossSum: 90.5, correct: 60, samples: 96, seconds: 0.125 },
    early: { best: 1.5, bestEpoch: 0, wait: 1, bestWeights: [f32([2, 3], 7), f32([3], 8)] },
    finished: null,
  };
}

/** The container's header and tensors, to edit and re-encode (a checkpoint someone else wrote). */
function unpack(bytes: Uint8Array): { header: Record<string, unknown>; tensors: RawTensor[] } {
  const { header, tensors } = decodeCheckpoint<Record<string, unknown>>(bytes);
  return { header, tensors: [...tensors.values()] };
}

function reasonOf(fn: () => unknown): CheckpointErrorReason | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (e instanceof CheckpointError) return e.reason;
    throw e; // any other error fails the test: the codec must not crash on bad bytes
  }
}

describe('training checkpoint codec', () => {
  it('round-trips every part of the state, an epoch without samples (NaN loss) included', () => {
    const c = sample();
    const bytes = encodeTrainingCheckpoint(c);
    const back = decodeTrainingCheckpoint(bytes);
    expect(back).toEqual(c);
    expect(back.weights[0].values.data).toBeInstanceOf(Float32Array);
    expect(Number.isNaN(back.history[1].loss)).toBe(true);
    expect(Buffer.from(encodeTrainingCheckpoint(back)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('round-trips without best weights, without optimizer slots and with a finished run', () => {
    const c: TrainingCheckpoint = {
      ...sample(),
      optimizer: { type: 'sgd', params: [{ key: 1, count: 4, slots: {} }] },
      early: { best: null, bestEpoch: -1, wait: 0, bestWeights: null },
      finished: 'early-stopped',
    };
    expect(decodeTrainingCheckpoint(encodeTrainingCheckpoint(c))).toEqual(c);
  });

  it("reads the trainer's format 1 as it has always been written (header fields, tensor names)", () => {
    const c = sample();
    const tensors: RawTensor[] = [
      { name: 'w/0', ...c.weights[0].values },
      { name: 'w/1', ...c.weights[1].values },
      { name: 'opt/0/m', ...c.optimizer.params[0].slots.m },
      { name: 'opt/0/v', ...c.optimizer.params[0].slots.v },
      { name: 'opt/1/m', ...c.optimizer.params[1].slots.m },
      { name: 'opt/1/v', ...c.optimizer.params[1].slots.v },
      { name: 'best/0', ...c.early.bestWeights![0] },
      { name: 'best/1', ...c.early.bestWeights![1] },
    ];
    const header = {
      format: 'modelsmith-train',
      version: 1,
      seed: 7,
      optimizer: 'adam',
      position: c.position,
      rng: c.rng,
      weights: [
        { name: 'dense/kernel', shape: [2, 3], dtype: 'float32' },
        { name: 'dense/bias', shape: [3], dtype: 'float32' },
      ],
      trainable: [true, false],
      optimizerParams: [
        { key: 0, count: 19, slots: ['m', 'v'] },
        { key: 1, count: 19, slots: ['m', 'v'] },
      ],
      history: c.history, // JSON writes the NaNs as null
      epochAccum: c.epochAccum,
      early: { best: 1.5, bestEpoch: 0, wait: 1, hasBestWeights: true },
      finished: null,
    };
    const written = encodeCheckpoint(header, tensors);
    expect(decodeTrainingCheckpoint(written)).toEqual(c);
    expect(Buffer.from(encodeTrainingCheckpoint(c)).equals(Buffer.from(written))).toBe(true);
  });

  it('re-encodes a checkpoint written by train() to the same bytes', async () => {
    await tf.setBackend('cpu');
    const store = new MemoryCheckpointStore();
    const m = tinyMlp(3);
    const ac = new AbortController();
    await train(m, {
      data: blobBatches(makeBlobs(96, 1), 32),
      validation: blobBatches(makeBlobs(30, 2), 30, false),
      epochs: 3,
      seed: 4,
      optimizer: { type: 'adamw' },
      earlyStopping: { patience: 5 },
      checkpoint: { store, key: 'k' },
      signal: ac.signal,
      progressEverySteps: 1,
      onProgress: (p) => {
        if (p.globalStep === 5) ac.abort();
      },
    });
    m.dispose();
    const bytes = (await store.load('k'))!;
    const c = decodeTrainingCheckpoint(bytes);
    expect(c.position).toEqual({ epoch: 1, step: 2, globalStep: 5 });
    expect(c.history).toHaveLength(1);
    expect(c.early.bestWeights).toHaveLength(c.weights.length);
    expect(c.optimizer.params.length).toBeGreaterThan(0);
    expect(Buffer.from(encodeTrainingCheckpoint(c)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses every truncation of a checkpoint as truncated', () => {
    const bytes = encodeTrainingCheckpoint(sample());
    for (let n = 0; n < bytes.length; n++) {
      expect([n, reasonOf(() => decodeTrainingCheckpoint(bytes.subarray(0, n)))]).toEqual([n, 'truncated']);
    }
  });

  it('refuses bytes that are not a training checkpoint as foreign, and another version as unsupported', () => {
    const json = new TextEncoder().encode(JSON.stringify({ format: 'modelsmith-train', version: 1 }));
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    expect(reasonOf(() => decodeTrainingCheckpoint(json))).toBe('foreign');
    expect(reasonOf(() => decodeTrainingCheckpoint(png))).toBe('foreign');
    expect(reasonOf(() => decodeTrainingCheckpoint(new Uint8Array(64)))).toBe('foreign');
    expect(reasonOf(() => decodeTrainingCheckpoint(encodeCheckpoint({ format: 'other' }, [])))).toBe(
      'foreign',
    );
    expect(reasonOf(() => decodeTrainingCheckpoint(encodeCheckpoint(null, [])))).toBe('foreign');
    expect(reasonOf(() => decodeTrainingCheckpoint(encodeCheckpoint([1, 2], [])))).toBe('foreign');
    const { header, tensors } = unpack(encodeTrainingCheckpoint(sample()));
    const v2 = encodeCheckpoint({ ...header, version: 2 }, tensors);
    expect(reasonOf(() => decodeTrainingCheckpoint(v2))).toBe('unsupported');
  });

  it('refuses inconsistent contents as corrupt, naming what is wrong', () => {
    const { header, tensors } = unpack(encodeTrainingCheckpoint(sample()));
    const without = (name: string) => tensors.filter((t) => t.name !== name);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['missing weight', encodeCheckpoint(header, without('w/1')), /lacks tensor 'w\/1'/],
      ['missing slot', encodeCheckpoint(header, without('opt/0/v')), /lacks tensor 'opt\/0\/v'/],
      ['missing best weight', encodeCheckpoint(header, without('best/0')), /lacks tensor 'best\/0'/],
      [
        'weight of another shape than its header',
        encodeCheckpoint(
          {
            ...header,
            weights: [{ name: 'k', shape: [3, 2], dtype: 'float32' }, (header.weights as unknown[])[1]],
          },
          tensors,
        ),
        /'w\/0' is float32 \[2,3\], expected float32 \[3,2\]/,
      ],
      [
        'weight of another dtype',
        encodeCheckpoint(
          header,
          tensors.map((t) =>
            t.name === 'w/1' ? { ...t, dtype: 'int32' as const, data: new Int32Array(3) } : t,
          ),
        ),
        /'w\/1' is int32/,
      ],
      [
        'optimizer state of a parameter that does not exist',
        encodeCheckpoint({ ...header, optimizerParams: [{ key: 5, count: 1, slots: [] }] }, tensors),
        /parameter 5 of 2/,
      ],
      [
        'optimizer state twice for one parameter',
        encodeCheckpoint(
          {
            ...header,
            optimizerParams: [
              { key: 1, count: 1, slots: [] },
              { key: 1, count: 1, slots: [] },
            ],
          },
          tensors,
        ),
        /appears twice/,
      ],
      ['rng word out of range', encodeCheckpoint({ ...header, rng: [1, 2, 3, 2 ** 32] }, tensors), /rng/],
      [
        'negative position',
        encodeCheckpoint({ ...header, position: { epoch: -1, step: 0, globalStep: 0 } }, tensors),
        /position/,
      ],
      [
        'step beyond the global step',
        encodeCheckpoint({ ...header, position: { epoch: 0, step: 4, globalStep: 3 } }, tensors),
        /step 4 > global step 3/,
      ],
      ['unknown optimizer', encodeCheckpoint({ ...header, optimizer: 'lion' }, tensors), /optimizer/],
      [
        'history entry without a loss',
        encodeCheckpoint({ ...header, history: [{ epoch: 0 }] }, tensors),
        /history/,
      ],
      ['no trainable flags', encodeCheckpoint({ ...header, trainable: undefined }, tensors), /trainable/],
    ];
    for (const [what, bytes, message] of cases) {
      let error: unknown;
      try {
        decodeTrainingCheckpoint(bytes);
      } catch (e) {
        error = e;
      }
      expect([what, error]).toEqual([what, expect.any(CheckpointError)]);
      expect([what, (error as CheckpointError).reason]).toEqual([what, 'corrupt']);
      expect([what, (error as Error).message]).toEqual([what, expect.stringMatching(message)]);
    }
  });

  it('refuses a container whose tensor table lies about the bytes as corrupt', () => {
    const bytes = encodeTrainingCheckpoint(sample());
    const jsonLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
    const table = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLen))) as {
      header: unknown;
      tensors: Array<Record<string, unknown>>;
    };
    const body = bytes.subarray(12 + ((jsonLen + 3) & ~3));
    /** The same tensor bytes behind an edited table (what a buggy or hostile writer could produce). */
    const withTable = (edit: (t: typeof table.tensors) => unknown[]): Uint8Array => {
      const json = new TextEncoder().encode(
        JSON.stringify({ header: table.header, tensors: edit(table.tensors.map((t) => ({ ...t }))) }),
      );
      const out = new Uint8Array(12 + ((json.length + 3) & ~3) + body.length);
      out.set(bytes.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, json.length, true);
      out.set(json, 12);
      out.set(body, 12 + ((json.length + 3) & ~3));
      return out;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['no table', withTable(() => null as unknown as unknown[])],
      ['byte length of another shape', withTable((t) => [{ ...t[0], byteLength: 20 }, ...t.slice(1)])],
      ['odd byte length', withTable((t) => [{ ...t[0], shape: [5], byteLength: 5 }, ...t.slice(1)])],
      ['negative offset', withTable((t) => [{ ...t[0], offset: -4 }, ...t.slice(1)])],
      ['fractional dimension', withTable((t) => [{ ...t[0], shape: [1.5, 4] }, ...t.slice(1)])],
      ['unknown dtype', withTable((t) => [{ ...t[0], dtype: 'float64' }, ...t.slice(1)])],
      ['one name twice', withTable((t) => [...t, t[0]])],
    ];
    for (const [what, b] of cases)
      expect([what, reasonOf(() => decodeTrainingCheckpoint(b))]).toEqual([what, 'corrupt']);
    // Invalid UTF-8 or JSON where the table should be.
    const garbled = new Uint8Array(bytes);
    garbled[12] = 0xff;
    expect(reasonOf(() => decodeTrainingCheckpoint(garbled))).toBe('corrupt');
  });

  it('never fails with anything but a CheckpointError on randomly damaged bytes', () => {
    const bytes = encodeTrainingCheckpoint(sample());
    const r = new Rng(99);
    const reasons = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const damaged = new Uint8Array(bytes);
      const flips = 1 + r.int(4);
      // Most damage lands in the header (where structure is); the rest anywhere.
      for (let k = 0; k < flips; k++)
        damaged[r.next() < 0.8 ? r.int(Math.min(600, bytes.length)) : r.int(bytes.length)] = r.int(256);
      const reason = reasonOf(() => decodeTrainingCheckpoint(damaged));
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    // Both outcomes occur: damage to float values is undetectable here (SlottedCheckpointStore's
    // sha256 catches it), damage to the structure is refused.
    expect(reasons.get('no error')).toBeGreaterThan(0);
    expect(reasons.get('corrupt')).toBeGreaterThan(0);
  });
});

describe("training dynamics codec (a search trial's dynamics next to its model)", () => {
  it('round-trips what was recorded, unseen samples (NaN, -1) included, and refuses other bytes', () => {
    const d = new TrainingDynamics(3, 2);
    d.record(0, [0, 2], [1, 0], Float32Array.from([0.2, 0.8, 0.6, 0.4]), false);
    d.record(1, [1], [1], Float32Array.from([0.9, 0.1]), false);
    const v = d.values();
    const back = decodeDynamics(encodeDynamics(v));
    expect(back.samples).toBe(3);
    expect(back.classes).toBe(2);
    expect(back.epochs).toBe(2);
    expect(Array.from(back.label)).toEqual([1, 1, 0]);
    expect(Array.from(back.prob)).toEqual(Array.from(v.prob));
    expect(Number.isNaN(back.prob[1])).toBe(true);
    expect(Array.from(back.margin)).toEqual(Array.from(v.margin));
    expect(Array.from(back.other)).toEqual([0, -1, 1, -1, 0, -1]);
    const empty = decodeDynamics(encodeDynamics(new TrainingDynamics(2, 3).values()));
    expect([empty.epochs, empty.prob.length, Array.from(empty.label)]).toEqual([0, 0, [-1, -1]]);
    expect(() => decodeDynamics(encodeTrainingCheckpoint(sample()))).toThrow(CheckpointError);
    expect(() => decodeDynamics(new Uint8Array(10))).toThrow(CheckpointError);
  });
});
