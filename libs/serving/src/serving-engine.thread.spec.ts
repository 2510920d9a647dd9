import * as tf from '@tensorflow/tfjs';
import {
  classifyImages,
  currentBackend,
  initBackend,
  InMemoryArtifactStore,
  loadExportedModel,
  ModelArtifactError,
} from '@modelsmith/ml';
import { InferenceThreadExitedError, type InferenceThread } from './inference/inference-thread';
import { ServingEngine, type ModelRef } from './serving-engine';
import { editManifest, engineMaker, noisePngs, storeTinyModel } from './spec-fixtures';

/**
 * What is particular to forward passes in the inference thread: the weights live there (and are freed
 * there), errors keep their type across the boundary, and a thread that dies is replaced without restarting the engine.
 */

const CLASSES = ['a', 'b', 'c'];

const stored = (store: InMemoryArtifactStore, id: string, seed: number) =>
  storeTinyModel(store, id, seed, { size: 32, channels: 3, filters: [8, 8], classNames: CLASSES });
const images = (n: number, seed: number) => noisePngs(n, seed, 3, () => 40);

const soon = (ms = 20_000) => Date.now() + ms;
const threadOf = (e: ServingEngine) => (e as unknown as { thread: Promise<InferenceThread> }).thread;

describe('ServingEngine with inference in a worker thread', () => {
  let store: InMemoryArtifactStore;
  let refs: ModelRef[];
  let inputs: Buffer[];
  const { engine, closeAll } = engineMaker(() => ({
    reader: store,
    maxModelBytes: 1 << 30,
    maxBatchSize: 8,
    autoBatchSize: false,
    maxBatchWaitMs: 0,
    maxQueuedImages: 256,
    inference: 'thread',
    threadBackend: 'wasm',
  }));

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    store = new InMemoryArtifactStore();
    refs = [await stored(store, 't1', 1), await stored(store, 't2', 4), await stored(store, 't3', 7)];
    inputs = await images(16, 3);
  });

  afterAll(closeAll);

  it('says which backend the thread runs on, and whether its kernels use the native BLAS addon', async () => {
    // The same addon build as this thread's (null where it is not built).
    expect(await engine().startInferenceThread()).toEqual({
      backend: 'wasm',
      nativeBlas: currentBackend()?.nativeBlas,
    });
    expect(await engine({ threadNativeBlas: false }).startInferenceThread()).toEqual({
      backend: 'wasm',
      nativeBlas: null,
    });
    expect(await engine({ inference: 'in-process' }).startInferenceThread()).toBeUndefined();
  });

  it('holds the weights in the thread, not here, and frees them there when a model leaves the cache', async () => {
    const here = tf.memory().numTensors;
    const e = engine();
    expect(await e.threadMemory()).toBeUndefined();
    await e.warm(refs[0]);
    const one = (await e.threadMemory())!;
    expect(one.models).toBe(1);
    expect(one.numTensors).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(here);
    const bytes = e.stats().models[0].bytes;
    expect(e.stats().inference).toBe('thread');

    // A cap that fits one model: each load evicts the previous one, whose tensors go.
    const small = engine({ maxModelBytes: bytes });
    for (const ref of refs) await small.predict(ref, inputs.slice(0, 2), { deadline: soon() });
    await new Promise((r) => setImmediate(r));
    const after = (await small.threadMemory())!;
    expect(small.stats().evictions).toBe(2);
    expect(after.models).toBe(1);
    expect(after.numTensors).toBe(one.numTensors);
    expect(tf.memory().numTensors).toBe(here);
  });

  it('answers many concurrent requests as in-process classification does', async () => {
    const e = engine({ maxBatchSize: 4 });
    const requests = Array.from({ length: 12 }, (_, i) => inputs.slice(i % 8, (i % 8) + 1 + (i % 3)));
    const results = await Promise.all(
      requests.map((imgs, i) => e.predict(refs[i % 2], imgs, { topK: 2, deadline: soon() })),
    );
    const reference = [
      await loadExportedModel(store, refs[0].prefix),
      await loadExportedModel(store, refs[1].prefix),
    ];
    for (const [i, imgs] of requests.entries()) {
      expect(results[i].modelId).toBe(refs[i % 2].modelId);
      // Same labels, scores within float rounding: a batched pass may sum in another order than a
      // single image's (OpenBLAS blocks by the batch's row count).
      const want = await classifyImages(reference[i % 2], imgs, { topK: 2 });
      expect(results[i].predictions.map((p) => p.top.map((t) => t.label))).toEqual(
        want.map((p) => p.top.map((t) => t.label)),
      );
      results[i].predictions.forEach((p, j) =>
        p.top.forEach((t, k) => expect(t.score).toBeCloseTo(want[j].top[k].score, 5)),
      );
    }
    for (const r of reference) r.model.dispose();
    expect(e.stats().models.reduce((n, m) => n + m.batches, 0)).toBeLessThan(requests.length);
  });

  it('keeps the error type and code of a model refused in the thread, and does not cache it', async () => {
    // A manifest naming four classes for a model with three outputs: only building the model tells.
    const bad = await stored(store, 'wrong-classes', 9);
    await editManifest<{ classNames: string[] }>(store, bad, (m) => (m.classNames = ['a', 'b', 'c', 'd']));
    const e = engine();
    const error = await e.predict(bad, inputs.slice(0, 1), { deadline: soon() }).catch((x: unknown) => x);
    expect(error).toBeInstanceOf(ModelArtifactError);
    expect((error as ModelArtifactError).code).toBe('ARTIFACT_MODEL_MISMATCH');
    expect(e.stats()).toMatchObject({ models: [], loadFailures: 1 });
    expect((await e.threadMemory())!.models).toBe(0);
  });

  it('replaces a thread that died: its requests fail, later ones load the model again and answer', async () => {
    const e = engine({ maxBatchWaitMs: 200 });
    await e.warm(refs[0]);
    const first = await threadOf(e);
    const pending = e.predict(refs[0], inputs.slice(0, 2), { deadline: soon() }).catch((x: unknown) => x);
    await first.terminate();
    expect(await pending).toBeInstanceOf(InferenceThreadExitedError);
    expect(first.alive).toBe(false);
    expect(e.stats().models).toEqual([]);
    const again = await e.predict(refs[0], inputs.slice(0, 2), { deadline: soon() });
    expect(again.predictions).toHaveLength(2);
    expect(await threadOf(e)).not.toBe(first);
    expect(e.stats().loads).toBe(2);
  });
});
