import { z } from 'zod';
import { decodeCheckpoint, encodeCheckpoint, type RawTensor, type TensorDType } from './checkpoint';
import type { DynamicsValues } from './dynamics';
import { CheckpointError } from './errors';
import type { OptimizerConfig } from './optimizers';
import type { RngState } from './rng';
import type { EarlyStoppingState, EpochAccum, EpochLog, TrainPosition, TrainStatus } from './types';

/**
 * The trainer's checkpoint codec: {@link TrainingCheckpoint} (plain values, no tfjs) to bytes and
 * back. The bytes are {@link encodeCheckpoint}'s container with a `modelsmith-train` version 1 header
 * and tensors named `w/<i>` (weights), `opt/<key>/<slot>` (optimizer slots), `best/<i>` (early
 * stopping's best weights). Decoding checks everything it returns: a foreign, truncated or corrupt
 * checkpoint is a {@link CheckpointError}, never a crash later or a run that silently goes wrong.
 * Whether the checkpoint fits a given model and seed is the caller's check.
 */

/** A tensor's values without a name. */
export type TensorValues = Omit<RawTensor, 'name'>;

export interface TrainingCheckpoint {
  seed: number;
  position: TrainPosition;
  rng: RngState;
  /** The model's weights in {@link orderedWeights} order. */
  weights: Array<{ name: string; values: TensorValues }>;
  /** {@link trainableFlags} of the model. */
  trainable: boolean[];
  optimizer: {
    type: OptimizerConfig['type'];
    /** Per parameter key (index into `weights`): step count and slot tensors. */
    params: Array<{ key: number; count: number; slots: Record<string, TensorValues> }>;
  };
  history: EpochLog[];
  /** Sums of the epoch in progress. */
  epochAccum: EpochAccum;
  early: EarlyStoppingState & { bestWeights: TensorValues[] | null };
  finished: TrainStatus | null;
  /** Training dynamics recorded so far (absent in checkpoints of runs without them). */
  dynamics?: DynamicsValues | null;
}

const FORMAT = 'modelsmith-train';
const VERSION = 1;

/** JSON writes NaN and infinities as null; an epoch without samples has a NaN loss. */
const jsonNumber = z
  .number()
  .nullable()
  .transform((v) => v ?? NaN);
const count = z.int().nonnegative();
const uint32 = count.max(0xffffffff);

// Key order as the trainer has always written them (the encoder builds objects in this order too).
const headerSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  seed: z.number(),
  optimizer: z.enum(['sgd', 'adam', 'adamw']),
  position: z.object({ epoch: count, step: count, globalStep: count }),
  rng: z.tuple([uint32, uint32, uint32, uint32]),
  weights: z.array(
    z.object({ name: z.string(), shape: z.array(count), dtype: z.enum(['float32', 'int32', 'bool']) }),
  ),
  trainable: z.array(z.boolean()),
  optimizerParams: z.array(z.object({ key: count, count, slots: z.array(z.string()) })),
  history: z.array(
    z.object({
      epoch: count,
      loss: jsonNumber,
      accuracy: jsonNumber,
      lr: z.number(),
      steps: count,
      samples: count,
      seconds: z.number(),
      val_loss: jsonNumber.optional(),
      val_accuracy: jsonNumber.optional(),
    }),
  ),
  epochAccum: z.object({
    steps: count,
    lossSum: z.number(),
    correct: z.number(),
    samples: count,
    seconds: z.number(),
  }),
  early: z.object({
    best: z.number().nullable(),
    bestEpoch: z.int(),
    wait: count,
    hasBestWeights: z.boolean(),
  }),
  finished: z.enum(['completed', 'early-stopped', 'cancelled']).nullable(),
  // Tensors dyn/label [samples], dyn/prob, dyn/margin, dyn/other [epochs, samples].
  dynamics: z
    .object({ samples: count.min(1), classes: count.min(1), epochs: count })
    .nullable()
    .optional(),
});

type Header = z.input<typeof headerSchema>;

/** Training dynamics as tensors `dyn/label` [samples] and `dyn/prob`, `dyn/margin`, `dyn/other` [epochs, samples]. */
function dynamicsTensors(d: DynamicsValues): RawTensor[] {
  const shape = [d.epochs, d.samples];
  const tensors: RawTensor[] = [{ name: 'dyn/label', dtype: 'int32', shape: [d.samples], data: d.label }];
  if (d.epochs > 0) {
    tensors.push({ name: 'dyn/prob', dtype: 'float32', shape, data: d.prob });
    tensors.push({ name: 'dyn/margin', dtype: 'float32', shape, data: d.margin });
    tensors.push({ name: 'dyn/other', dtype: 'int32', shape, data: d.other });
  }
  return tensors;
}

export function encodeTrainingCheckpoint(c: TrainingCheckpoint): Uint8Array {
  const tensors: RawTensor[] = [];
  c.weights.forEach((w, i) => tensors.push({ name: `w/${i}`, ...w.values }));
  for (const p of c.optimizer.params) {
    for (const [slot, t] of Object.entries(p.slots)) tensors.push({ name: `opt/${p.key}/${slot}`, ...t });
  }
  c.early.bestWeights?.forEach((t, i) => tensors.push({ name: `best/${i}`, ...t }));
  const d = c.dynamics;
  if (d) tensors.push(...dynamicsTensors(d));
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    seed: c.seed,
    optimizer: c.optimizer.type,
    position: c.position,
    rng: c.rng,
    weights: c.weights.map((w) => ({ name: w.name, shape: w.values.shape, dtype: w.values.dtype })),
    trainable: c.trainable,
    optimizerParams: c.optimizer.params.map((p) => ({
      key: p.key,
      count: p.count,
      slots: Object.keys(p.slots),
    })),
    history: c.history,
    epochAccum: c.epochAccum,
    early: {
      best: c.early.best,
      bestEpoch: c.early.bestEpoch,
      wait: c.early.wait,
      hasBestWeights: c.early.bestWeights !== null,
    },
    finished: c.finished,
    ...(d ? { dynamics: { samples: d.samples, classes: d.classes, epochs: d.epochs } } : {}),
  };
  return encodeCheckpoint(header, tensors);
}

export function decodeTrainingCheckpoint(bytes: Uint8Array): TrainingCheckpoint {
  const { header: raw, tensors } = decodeCheckpoint<unknown>(bytes);
  const h = parseHeader(raw);
  const take = taker(tensors);
  const weights = h.weights.map((w, i) => ({ name: w.name, values: take(`w/${i}`, w.shape, w.dtype) }));
  const keys = new Set<number>();
  const params = h.optimizerParams.map((p) => {
    const weight = h.weights[p.key];
    if (!weight) throw new CheckpointError(`optimizer state for parameter ${p.key} of ${h.weights.length}`);
    if (keys.has(p.key)) throw new CheckpointError(`optimizer state for parameter ${p.key} appears twice`);
    keys.add(p.key);
    const slots: Record<string, TensorValues> = {};
    for (const s of p.slots) slots[s] = take(`opt/${p.key}/${s}`, weight.shape, 'float32');
    return { key: p.key, count: p.count, slots };
  });
  if (h.position.step > h.position.globalStep) {
    throw new CheckpointError(`position: step ${h.position.step} > global step ${h.position.globalStep}`);
  }
  return {
    seed: h.seed,
    position: h.position,
    rng: h.rng,
    weights,
    trainable: h.trainable,
    optimizer: { type: h.optimizer, params },
    history: h.history,
    epochAccum: h.epochAccum,
    early: {
      best: h.early.best,
      bestEpoch: h.early.bestEpoch,
      wait: h.early.wait,
      bestWeights: h.early.hasBestWeights
        ? h.weights.map((w, i) => take(`best/${i}`, w.shape, w.dtype))
        : null,
    },
    finished: h.finished,
    ...(h.dynamics ? { dynamics: takeDynamics(h.dynamics, take) } : {}),
  };
}

/** Reads tensor `name` of `tensors`, checked to have `shape` and `dtype`. */
function taker(tensors: Map<string, RawTensor>) {
  return (name: string, shape: number[], dtype: TensorDType): TensorValues => {
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`);
    if (t.dtype !== dtype || !sameShape(t.shape, shape)) {
      throw new CheckpointError(
        `tensor '${name}' is ${t.dtype} [${t.shape.join(',')}], expected ${dtype} [${shape.join(',')}]`,
      );
    }
    return { dtype: t.dtype, shape: t.shape, data: t.data };
  };
}

const DYNAMICS_FORMAT = 'modelsmith-dynamics';
const dynamicsHeaderSchema = z.object({
  format: z.literal(DYNAMICS_FORMAT),
  version: z.literal(1),
  samples: count.min(1),
  classes: count.min(1),
  epochs: count,
});

/**
 * Training dynamics on their own (a search trial's, kept next to its model for the label-quality
 * report of the search's model): {@link encodeCheckpoint}'s container with a `modelsmith-dynamics`
 * version 1 header and the checkpoint's `dyn/*` tensors.
 */
export function encodeDynamics(d: DynamicsValues): Uint8Array {
  return encodeCheckpoint(
    { format: DYNAMICS_FORMAT, version: 1, samples: d.samples, classes: d.classes, epochs: d.epochs },
    dynamicsTensors(d),
  );
}

/** {@link encodeDynamics}' bytes back; anything else is a {@link CheckpointError}. */
export function decodeDynamics(bytes: Uint8Array): DynamicsValues {
  const { header, tensors } = decodeCheckpoint<unknown>(bytes);
  const h = dynamicsHeaderSchema.safeParse(header);
  if (!h.success) throw new CheckpointError(`not training dynamics: ${z.prettifyError(h.error)}`, 'foreign');
  const { samples, classes, epochs } = h.data;
  return takeDynamics({ samples, classes, epochs }, taker(tensors));
}

function takeDynamics(
  d: { samples: number; classes: number; epochs: number },
  take: (name: string, shape: number[], dtype: TensorDType) => TensorValues,
): DynamicsValues {
  const shape = [d.epochs, d.samples];
  const label = take('dyn/label', [d.samples], 'int32').data as Int32Array;
  if (label.some((y) => y < -1 || y >= d.classes))
    throw new CheckpointError(`dynamics: a label outside -1..${d.classes - 1}`);
  if (d.epochs === 0)
    return { ...d, label, prob: new Float32Array(0), margin: new Float32Array(0), other: new Int32Array(0) };
  return {
    ...d,
    label,
    prob: take('dyn/prob', shape, 'float32').data as Float32Array,
    margin: take('dyn/margin', shape, 'float32').data as Float32Array,
    other: take('dyn/other', shape, 'int32').data as Int32Array,
  };
}

function parseHeader(raw: unknown): z.output<typeof headerSchema> {
  const tag = (raw ?? {}) as { format?: unknown; version?: unknown };
  if (typeof raw !== 'object' || tag.format !== FORMAT) {
    throw new CheckpointError(`not a training checkpoint (format ${String(tag.format)})`, 'foreign');
  }
  if (tag.version !== VERSION) {
    throw new CheckpointError(
      `unsupported checkpoint format ${FORMAT}/${String(tag.version)}`,
      'unsupported',
    );
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success)
    throw new CheckpointError(`corrupt checkpoint header: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
