import * as tf from '@tensorflow/tfjs';
import {
  classifyImages,
  exportModel,
  initBackend,
  InMemoryArtifactStore,
  loadExportedModel,
  ModelArtifactError,
  PreprocessError,
} from '@modelsmith/ml';
import { ServingClosedError, ServingOverloadedError, ServingTimeoutError } from './errors';
import { ServingEngine, type ModelRef } from './serving-engine';
import { engineMaker, expectSamePredictions, noisePngs, storeTinyModel } from './spec-fixtures';

const CLASSES = ['a', 'b', 'c', 'd'];

const stored = (store: InMemoryArtifactStore, id: string, seed: number) =>
  storeTinyModel(store, id, seed, { size: 16, channels: 1, filters: [4], stride: 2, classNames: CLASSES });
/** Seeded grayscale PNGs of varying size (resized by the engine like in training). */
const images = (n: number, seed: number) => noisePngs(n, seed, 1, (i) => 12 + (i % 3) * 6);

const soon = (ms = 10_000) => Date.now() + ms;
const MODEL_BYTES = (3 * 3 * 1 * 4 + 4 + 7 * 7 * 4 * 4 + 4) * 4;

describe.each(['in-process', 'thread'] as const)(
  'ServingEngine (wasm backend, real tfjs models, inference %s)',
  (inference) => {
    let store: InMemoryArtifactStore;
    let refs: ModelRef[];
    let inputs: Buffer[];
    const { engine, track, closeAll } = engineMaker(() => ({
      reader: store,
      maxModelBytes: 1 << 30,
      maxBatchSize: 8,
      autoBatchSize: false,
      maxBatchWaitMs: 2,
      maxQueuedImages: 64,
      inference,
      threadBackend: 'wasm',
    }));

    beforeAll(async () => {
      await initBackend({ prefer: 'wasm' });
      store = new InMemoryArtifactStore();
      refs = [await stored(store, 'm1', 1), await stored(store, 'm2', 2), await stored(store, 'm3', 3)];
      inputs = await images(12, 42);
    });

    afterAll(closeAll);

    it('answers exactly what classifyImages gives for the same model and images', async () => {
      const e = engine();
      const result = await e.predict(refs[0], inputs, { topK: 3, deadline: soon() });
      const reference = await loadExportedModel(store, refs[0].prefix);
      const expected = await classifyImages(reference, inputs, { topK: 3 });
      reference.model.dispose();
      expect(result).toMatchObject({ modelId: 'm1', version: 'v1' });
      expectSamePredictions(result.predictions, expected);
      expect(result.predictions[0].top).toHaveLength(3);
      expect(
        (await e.predict(refs[0], inputs.slice(0, 1), { topK: 99, deadline: soon() })).predictions[0].top,
      ).toHaveLength(CLASSES.length);
    });

    it("serves a ref's own batching (a tuned deployment) from a separate copy with that batch size and wait", async () => {
      const e = engine({ autoBatchSize: true });
      const tuned: ModelRef = { ...refs[2], batching: { maxBatchSize: 3, maxBatchWaitMs: 7 } };
      const plain = await e.predict(refs[2], inputs.slice(0, 2), { deadline: soon() });
      const own = await e.predict(tuned, inputs.slice(0, 2), { deadline: soon() });
      expectSamePredictions(own.predictions, plain.predictions);
      const models = e.stats().models.filter((m) => m.modelId === 'm3');
      expect(models).toHaveLength(2);
      const copy = models.find((m) => m.batchSize === 3)!;
      expect(copy).toMatchObject({ batchSize: 3, batchWaitMs: 7, calibration: null });
      // Five images at once: passes of at most 3.
      await e.predict(tuned, inputs.slice(0, 5), { deadline: soon() });
      const after = e.stats().models.find((m) => m.modelId === 'm3' && m.batchSize === 3)!;
      expect(after.batches - copy.batches).toBeGreaterThanOrEqual(2);
      await expect(
        e.predict({ ...refs[2], batching: { maxBatchSize: 0, maxBatchWaitMs: 0 } }, inputs.slice(0, 1), {
          deadline: soon(),
        }),
      ).rejects.toThrow(RangeError);
    });

    it('serves concurrent requests in fewer forward passes, each with its own predictions', async () => {
      const e = engine({ maxBatchWaitMs: 30 });
      await e.warm(refs[1]);
      const requests = [0, 2, 4, 6, 8, 10].map((i) => inputs.slice(i, i + 2));
      const results = await Promise.all(
        requests.map((imgs) => e.predict(refs[1], imgs, { deadline: soon() })),
      );
      const reference = await loadExportedModel(store, refs[1].prefix);
      for (const [i, imgs] of requests.entries())
        expectSamePredictions(results[i].predictions, await classifyImages(reference, imgs, { topK: 5 }));
      reference.model.dispose();
      const stats = e.stats().models.find((m) => m.modelId === 'm2')!;
      expect(stats.images).toBe(12);
      expect(stats.batches).toBeLessThan(requests.length);
      expect(stats.batches).toBeGreaterThanOrEqual(2); // 12 images, at most 8 per pass
    });

    it('sums the time its forward passes ran (forwardMs): growing with each pass, never more than the wall time they took', async () => {
      const e = engine({ maxBatchWaitMs: 0 });
      await e.warm(refs[0]);
      const forwardMs = () => e.stats().models.find((m) => m.modelId === 'm1')!.forwardMs;
      expect(forwardMs()).toBe(0); // no calibration: no pass yet
      const started = performance.now();
      await e.predict(refs[0], inputs.slice(0, 4), { deadline: soon() });
      const one = forwardMs();
      expect(one).toBeGreaterThan(0);
      await Promise.all(
        [0, 3, 6, 9].map((i) => e.predict(refs[0], inputs.slice(i, i + 3), { deadline: soon() })),
      );
      const elapsed = performance.now() - started;
      expect(forwardMs()).toBeGreaterThan(one);
      // Passes of one model never overlap (one thread runs them), and hand-over and waiting are not counted.
      expect(forwardMs()).toBeLessThanOrEqual(elapsed);
    });

    it('loads a model once for concurrent first requests', async () => {
      const e = engine();
      await Promise.all([0, 1, 2, 3].map((i) => e.predict(refs[2], [inputs[i]], { deadline: soon() })));
      expect(e.stats().loads).toBe(1);
    });

    it('keeps loaded models under the memory cap, least recently used out first, and reloads on demand', async () => {
      const e = engine({ maxModelBytes: Math.floor(MODEL_BYTES * 2.5) });
      for (const ref of refs) await e.predict(ref, [inputs[0]], { deadline: soon() });
      let stats = e.stats();
      expect(stats.models.map((m) => m.modelId).sort()).toEqual(['m2', 'm3']);
      expect(stats.models[0].bytes).toBe(MODEL_BYTES);
      expect(stats.totalBytes).toBeLessThanOrEqual(stats.maxBytes);
      expect(stats.evictions).toBe(1);
      await e.predict(refs[0], [inputs[0]], { deadline: soon() });
      stats = e.stats();
      expect(stats.loads).toBe(4);
      expect(stats.models.map((m) => m.modelId).sort()).toEqual(['m1', 'm3']);
    });

    it('finishes requests on a model evicted while they wait, and frees every tensor on close', async () => {
      const before = tf.memory().numTensors;
      const e = engine({ maxModelBytes: MODEL_BYTES, maxBatchWaitMs: 80, autoBatchSize: true });
      const waiting = e.predict(refs[0], inputs.slice(0, 3), { deadline: soon() });
      await new Promise((r) => setTimeout(r, 10));
      // Loading m2 evicts m1 while m1's request is still queued.
      const other = await e.predict(refs[1], [inputs[0]], { deadline: soon() });
      expect(e.stats().models.map((m) => m.modelId)).toEqual(['m2']);
      const result = await waiting;
      expect(result.predictions).toHaveLength(3);
      expect(other.predictions).toHaveLength(1);
      await e.close();
      await e.close();
      expect(tf.memory().numTensors).toBe(before);
      await expect(e.predict(refs[0], [inputs[0]], { deadline: soon() })).rejects.toBeInstanceOf(
        ServingClosedError,
      );
    });

    it('measures the batch size each model is served with, within the configured maximum', async () => {
      const e = engine({ maxBatchSize: 12, autoBatchSize: true });
      await e.warm(refs[0]);
      const [m] = e.stats().models;
      const sizes = m.calibration!.map((c) => c.size);
      expect(sizes[0]).toBe(1);
      sizes.slice(1).forEach((size, i) => expect(size).toBe(Math.min(12, sizes[i] * 2)));
      expect(sizes).toContain(m.batchSize);
      const best = Math.max(...m.calibration!.map((c) => c.imagesPerSecond));
      // The largest size within 20% of the best measured throughput.
      expect(m.calibration!.find((c) => c.size === m.batchSize)!.imagesPerSecond).toBeGreaterThanOrEqual(
        0.8 * best,
      );
      expect(
        m.calibration!.filter((c) => c.size > m.batchSize).every((c) => c.imagesPerSecond < 0.8 * best),
      ).toBe(true);
    });

    it('sheds work over the queue limit and drops requests past their deadline', async () => {
      // The queued images wait up to 2 s for company: long enough to be seen queued on a loaded machine.
      const e = engine({ maxQueuedImages: 4, maxBatchWaitMs: 2_000 });
      await e.warm(refs[0]);
      const queued = e.predict(refs[0], inputs.slice(0, 3), { deadline: soon() });
      // Decoding happens before queueing: wait until the three images actually wait for the model.
      while (e.stats().models[0].queuedImages < 3) await new Promise((r) => setTimeout(r, 2));
      const shed = await e
        .predict(refs[0], inputs.slice(0, 2), { deadline: soon() })
        .catch((x: unknown) => x);
      expect(shed).toBeInstanceOf(ServingOverloadedError);
      const late = await e
        .predict(refs[0], [inputs[0]], { deadline: Date.now() + 40 })
        .catch((x: unknown) => x);
      expect(late).toBeInstanceOf(ServingTimeoutError);
      await expect(queued).resolves.toMatchObject({ modelId: 'm1' });
    });

    it('folds batch norms when it loads a model, with the same predictions up to rounding', async () => {
      const input = tf.input({ shape: [16, 16, 1] });
      let x = tf.layers
        .conv2d({
          filters: 4,
          kernelSize: 3,
          useBias: false,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }),
        })
        .apply(input) as tf.SymbolicTensor;
      const bn = tf.layers.batchNormalization();
      x = tf.layers.reLU().apply(bn.apply(x)) as tf.SymbolicTensor;
      x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
      const model = tf.model({
        inputs: input,
        outputs: tf.layers
          .dense({
            units: CLASSES.length,
            activation: 'softmax',
            kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }),
          })
          .apply(x) as tf.SymbolicTensor,
      });
      bn.setWeights([
        tf.tensor1d([1.5, 0.5, 2, 1]),
        tf.tensor1d([0.1, -0.2, 0.3, 0]),
        tf.tensor1d([0.2, -0.1, 0.05, 0.3]),
        tf.tensor1d([0.5, 2, 1, 0.1]),
      ]);
      await exportModel(model, store, 'models/bn/', {
        task: 'image-classification',
        input: { kind: 'image', height: 16, width: 16, channels: 1, fit: 'fill' },
        normalization: { kind: 'unit' },
        classNames: CLASSES,
        backboneId: null,
        metrics: {},
      });
      model.dispose();
      const ref = { modelId: 'bn', version: 'v1', prefix: 'models/bn/' };
      const folded = engine();
      const plain = engine({ foldBatchNorm: false });
      const a = await folded.predict(ref, inputs, { topK: CLASSES.length, deadline: soon() });
      const b = await plain.predict(ref, inputs, { topK: CLASSES.length, deadline: soon() });
      const reference = await loadExportedModel(store, ref.prefix);
      expectSamePredictions(b.predictions, await classifyImages(reference, inputs, { topK: CLASSES.length }));
      reference.model.dispose();
      for (const [i, p] of a.predictions.entries()) {
        expect(p.label).toBe(b.predictions[i].label);
        for (const [j, top] of p.top.entries())
          expect(top.score).toBeCloseTo(b.predictions[i].top[j].score, 5);
      }
      // Weights: 4 conv bias values instead of 16 batch-norm values.
      expect(plain.stats().models[0].bytes - folded.stats().models[0].bytes).toBe((16 - 4) * 4);
    });

    it('says which image could not be decoded', async () => {
      const e = engine();
      const error = await e
        .predict(refs[0], [inputs[0], Buffer.from('not an image')], { deadline: soon() })
        .catch((x: unknown) => x);
      expect(error).toBeInstanceOf(PreprocessError);
      expect((error as Error).message).toMatch(/^image 1: /);
    });

    it('refuses hostile or oversized models before loading any weights, and does not cache the failure', async () => {
      const hostile = new InMemoryArtifactStore();
      const ref = await stored(hostile, 'evil', 5);
      const manifestKey = `${ref.prefix}manifest.json`;
      const manifest = JSON.parse(Buffer.from(await hostile.get(manifestKey)).toString()) as {
        files: { path: string; size: number }[];
      };
      const shard = manifest.files.find((f) => f.path !== 'model.json')!;
      const original = shard.path;
      let weightReads = 0;
      const reader = {
        get: async (key: string) => {
          if (key.endsWith('.bin')) weightReads++;
          return hostile.get(key);
        },
      };
      const e = track(
        new ServingEngine({
          reader,
          maxModelBytes: 1 << 20,
          maxBatchSize: 4,
          maxBatchWaitMs: 0,
          maxQueuedImages: 8,
          inference,
          threadBackend: 'wasm',
        }),
      );
      for (const path of [`../${original}`, `/abs/${original}`]) {
        shard.path = path;
        await hostile.put(manifestKey, Buffer.from(JSON.stringify(manifest)));
        const error = await e.predict(ref, [inputs[0]], { deadline: soon() }).catch((x: unknown) => x);
        expect(error).toBeInstanceOf(ModelArtifactError);
      }
      shard.path = original;
      await hostile.put(manifestKey, Buffer.from(JSON.stringify(manifest)));
      const small = track(
        new ServingEngine({
          reader,
          maxModelBytes: 1 << 20,
          maxBatchSize: 4,
          maxBatchWaitMs: 0,
          maxQueuedImages: 8,
          artifactLimits: { maxWeightBytes: 100 },
          inference,
          threadBackend: 'wasm',
        }),
      );
      const tooBig = await small.predict(ref, [inputs[0]], { deadline: soon() }).catch((x: unknown) => x);
      expect((tooBig as ModelArtifactError).code).toBe('ARTIFACT_TOO_LARGE');
      expect(weightReads).toBe(0);
      expect(e.stats()).toMatchObject({ models: [], loads: 0, loadFailures: 2 });
      // Repaired, the same model loads on the next request: failures are not cached.
      await expect(e.predict(ref, [inputs[0]], { deadline: soon() })).resolves.toMatchObject({
        modelId: 'evil',
      });
    });
  },
);
