import sharp from 'sharp';
import { initBackend, InMemoryArtifactStore, explainRequestSchema, ExplainError } from '@modelsmith/ml';
import { ServingOverloadedError } from './errors';
import type { ModelRef } from './serving-engine';
import { engineMaker, noisePngs, storeTinyModel } from './spec-fixtures';

/** Explanations through the engine: the same model cache, in-process and in the inference thread. */

const CLASSES = ['a', 'b', 'c'];
const soon = () => Date.now() + 60_000;

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
