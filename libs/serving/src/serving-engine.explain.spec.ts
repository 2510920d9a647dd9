import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import {
  initBackend,
  InMemoryArtifactStore,
  explainRequestSchema,
  ExplainError,
  loadExportedModel,
  preprocessImage,
} from '@modelsmith/ml';
import { ServingOverloadedError } from './errors';
import type { ModelRef } from './serving-engine';
import { engineMaker, noisePngs, storeTinyModel } from './spec-fixtures';

/** Explanations through the engine: the same model cache, in-process and in the inference thread. */

const CLASSES = ['a', 'b', 'c'];
const soon = () => Date.now() + 60_000;
const SPEC_32 = { height: 32, width: 32, channels: 3 as const, normalization: { kind: 'unit' as const } };

describe('ServingEngine.explain', () => {
  let store: InMemoryArtifactStore;
  let ref: ModelRef;
  let image: Buffer;
  const { engine, closeAll } = engineMaker(() => ({
    reader: store,
    maxModelBytes: 1 << 30,
    maxBatchSize: 8,
    autoBatchSize: false,
    maxBatchWaitMs: 0,
    maxQueuedImages: 256,
  }));

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    store = new InMemoryArtifactStore();
    ref = await storeTinyModel(store, 'x1', 3, {
      size: 32,
      channels: 3,
      filters: [8, 8],
      classNames: CLASSES,
    });
    [image] = await noisePngs(1, 5, 3, () => 40);
  });

  afterAll(closeAll);

  for (const inference of ['in-process', 'thread'] as const) {
    it(`answers every method with a grid heatmap, a PNG overlay and its cost (${inference})`, async () => {
      const e = engine({ inference, threadBackend: 'wasm' });
      const predicted = (await e.predict(ref, [image], { deadline: soon() })).predictions[0];
      for (const method of ['grad-cam', 'integrated-gradients', 'smoothgrad', 'lime'] as const) {
        const request = explainRequestSchema.parse({
          method,
          steps: method === 'integrated-gradients' ? 8 : undefined,
        });
        const r = await e.explain(ref, image, request, { deadline: soon(), grid: 8 });
        expect(r).toMatchObject({ modelId: ref.modelId, method, target: { label: predicted.label } });
        expect(r.probability).toBeCloseTo(predicted.score, 4);
        expect(r.heatmap.rows).toBe(8);
        expect(r.heatmap.values).toHaveLength(8);
        expect(r.heatmap.values.flat().every(Number.isFinite)).toBe(true);
        const meta = await sharp(r.overlayPng).metadata();
        expect(meta).toMatchObject({ format: 'png', width: 32, height: 32 });
        expect(r.cost.modelImages).toBeGreaterThanOrEqual(1);
        if (method === 'integrated-gradients') expect(typeof r.completenessGap).toBe('number');
      }
      const targeted = await e.explain(ref, image, explainRequestSchema.parse({ target: 2 }), {
        deadline: soon(),
        overlay: false,
      });
      expect(targeted.target).toEqual({ index: 2, label: 'c' });
      expect(targeted.overlayPng).toBeUndefined();
    }, 60_000);
  }

  it('preprocesses as predict does for a model trained from a smaller dataset cache (input.trainedFrom)', async () => {
    const upscaled = await storeTinyModel(store, 'x16', 7, {
      size: 32,
      channels: 3,
      filters: [8],
      classNames: CLASSES,
      trainedFrom: 12,
    });
    const e = engine({ inference: 'in-process' });
    const predicted = (await e.predict(upscaled, [image], { deadline: soon() })).predictions[0];
    const seenAs = await preprocessImage(image, SPEC_32, {
      fit: 'fill',
      trainedFrom: { height: 12, width: 12 },
    });
    const direct = await preprocessImage(image, SPEC_32, { fit: 'fill' });
    const { model } = await loadExportedModel(store, upscaled.prefix);
    const probabilities = (x: Float32Array) =>
      tf.tidy(() => Array.from((model.predict(tf.tensor4d(x, [1, 32, 32, 3])) as tf.Tensor).dataSync()));
    const [viaCache, straight] = [probabilities(seenAs.data), probabilities(direct.data)];
    model.dispose();
    const r = await e.explain(upscaled, image, explainRequestSchema.parse({ method: 'grad-cam' }), {
      deadline: soon(),
    });
    expect(r.target.label).toBe(predicted.label);
    expect(Math.abs(r.probability - predicted.score)).toBeLessThan(1e-5);
    expect(Math.abs(r.probability - viaCache[r.target.index])).toBeLessThan(1e-5);
    // The straight resize (what explain did before) gives this model other probabilities.
    expect(Math.abs(straight[r.target.index] - viaCache[r.target.index])).toBeGreaterThan(1e-3);
    const meta = await sharp(r.overlayPng).metadata();
    expect(meta).toMatchObject({ width: 32, height: 32 });
  }, 60_000);

  it('refuses a target the model does not have with an ExplainError, across the thread too', async () => {
    for (const inference of ['in-process', 'thread'] as const) {
      const e = engine({ inference, threadBackend: 'wasm' });
      const error = await e
        .explain(ref, image, explainRequestSchema.parse({ target: 3 }), { deadline: soon() })
        .catch((x: unknown) => x);
      expect(error).toBeInstanceOf(ExplainError);
      expect(error).toMatchObject({ code: 'EXPLAIN_INPUT_MISMATCH' });
    }
  });

  it('sheds explanations over the concurrency cap', async () => {
    const e = engine({ maxConcurrentExplanations: 1 });
    const request = explainRequestSchema.parse({ method: 'integrated-gradients', steps: 32 });
    const results = await Promise.allSettled([
      e.explain(ref, image, request, { deadline: soon() }),
      e.explain(ref, image, request, { deadline: soon() }),
    ]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(ServingOverloadedError) });
  });
});
