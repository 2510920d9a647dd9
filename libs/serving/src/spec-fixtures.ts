import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { exportModel, type ImageClassification, type InMemoryArtifactStore } from '@modelsmith/ml';
import { ServingEngine, type ModelRef, type ServingEngineOptions } from './serving-engine';

/** Test fixtures of the engine specs (not exported by the library). */

/**
 * Makes a spec's engines: `engine(o)` with `defaults()` under `o`, `track(e)` for one built by hand;
 * `closeAll` (for the spec's afterAll) closes every one of them.
 */
export function engineMaker(defaults: () => ServingEngineOptions) {
  const made: ServingEngine[] = [];
  const track = (e: ServingEngine): ServingEngine => {
    made.push(e);
    return e;
  };
  return {
    engine: (o: Partial<ServingEngineOptions> = {}) => track(new ServingEngine({ ...defaults(), ...o })),
    track,
    closeAll: async (): Promise<void> => {
      await Promise.all(made.splice(0).map((e) => e.close()));
    },
  };
}

export interface TinyModelSpec {
  /** Input side (square) and channels. */
  size: number;
  channels: 1 | 3;
  /** Filters of each 3x3 convolution, in order (the first with stride `stride`). */
  filters: number[];
  stride?: number;
  classNames: string[];
  /** The dataset cache size the model was trained from (the manifest's input.trainedFrom). */
  trainedFrom?: number;
}

/** A seeded conv net exported under `models/<id>/` (unit normalization, fill resize); its ref at version v1. */
export async function storeTinyModel(
  store: InMemoryArtifactStore,
  id: string,
  seed: number,
  spec: TinyModelSpec,
): Promise<ModelRef> {
  const model = tf.sequential();
  spec.filters.forEach((filters, i) =>
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [spec.size, spec.size, spec.channels], strides: spec.stride ?? 1 } : {}),
        filters,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
      }),
    ),
  );
  model.add(tf.layers.flatten());
  model.add(
    tf.layers.dense({
      units: spec.classNames.length,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + spec.filters.length }),
    }),
  );
  await exportModel(model, store, `models/${id}/`, {
    task: 'image-classification',
    input: {
      kind: 'image',
      height: spec.size,
      width: spec.size,
      channels: spec.channels,
      fit: 'fill',
      ...(spec.trainedFrom ? { trainedFrom: { height: spec.trainedFrom, width: spec.trainedFrom } } : {}),
    },
    normalization: { kind: 'unit' },
    classNames: spec.classNames,
    backboneId: null,
    metrics: {},
  });
  model.dispose();
  return { modelId: id, version: 'v1', prefix: `models/${id}/` };
}

/** `n` PNGs of seeded noise; image i is sizeOf(i) pixels square (the engine resizes them like training does). */
export async function noisePngs(
  n: number,
  seed: number,
  channels: 1 | 3,
  sizeOf: (i: number) => number,
): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    const size = sizeOf(i);
    const px = Buffer.alloc(size * size * channels);
    for (let j = 0; j < px.length; j++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      px[j] = s % 256;
    }
    out.push(
      await sharp(px, { raw: { width: size, height: size, channels } })
        .png()
        .toBuffer(),
    );
  }
  return out;
}

/** Rewrites the manifest.json of a stored model through `edit`. */
export async function editManifest<T>(
  store: InMemoryArtifactStore,
  ref: ModelRef,
  edit: (manifest: T) => void,
): Promise<void> {
  const key = `${ref.prefix}manifest.json`;
  const manifest = JSON.parse(Buffer.from(await store.get(key)).toString()) as T;
  edit(manifest);
  await store.put(key, Buffer.from(JSON.stringify(manifest)));
}

/**
 * Asserts two prediction lists agree: the same labels in the same order, scores within float
 * rounding. Passes of another batch composition may sum in another order (OpenBLAS blocks by the
 * batch's row count and picks its kernels by CPU), so scores are never compared bitwise.
 */
export function expectSamePredictions(
  actual: readonly ImageClassification[],
  expected: readonly ImageClassification[],
  digits = 5,
): void {
  expect(actual.map((p) => [p.label, ...p.top.map((t) => t.label)])).toEqual(
    expected.map((p) => [p.label, ...p.top.map((t) => t.label)]),
  );
  actual.forEach((p, i) => {
    expect(p.score).toBeCloseTo(expected[i].score, digits);
    p.top.forEach((t, k) => expect(t.score).toBeCloseTo(expected[i].top[k].score, digits));
  });
}
