import sharp from 'sharp';
import {
  arrayBatches,
  classifyImages,
  collectPredictions,
  explainRequestSchema,
  initBackend,
  InMemoryArtifactStore,
  loadExportedModel,
  normalizePixels,
  testTimeAveragingOf,
  type ExportManifest,
  type ImageClassification,
} from '@modelsmith/ml';
import type { ModelRef } from './serving-engine';
import { editManifest, engineMaker, noisePngs, storeTinyModel } from './spec-fixtures';

const CLASSES = ['a', 'b', 'c', 'd'];
const SIZE = 12;

/** Probabilities by class name (an answer's top-k with k = every class). */
const byClass = (p: ImageClassification) => Object.fromEntries(p.top.map((t) => [t.label, t.score]));

/**
 * A model whose manifest declares test-time views gives the same class probabilities through
 * evaluation (collectPredictions with the manifest's averaging), serving (in-process and in the
 * inference thread), batch prediction (the engine as the batch handler runs it: one image per
 * call, no batch wait) and classifyImages; and they differ from the image's alone.
 */
describe('test-time averaging: evaluation, serving and batch prediction agree', () => {
  let store: InMemoryArtifactStore;
  let ref: ModelRef;
  let plainRef: ModelRef;
  let pngs: Buffer[];
  let expected: Array<Record<string, number>>;
  let plain: Array<Record<string, number>>;
  const { engine, closeAll } = engineMaker(() => ({
    reader: store,
    maxModelBytes: 1 << 30,
    maxBatchSize: 8,
    autoBatchSize: false,
    maxBatchWaitMs: 2,
    maxQueuedImages: 64,
    threadBackend: 'wasm',
  }));

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    store = new InMemoryArtifactStore();
    const spec = { size: SIZE, channels: 3 as const, filters: [4], stride: 2, classNames: CLASSES };
    ref = await storeTinyModel(store, 'tta', 7, spec);
    plainRef = await storeTinyModel(store, 'plain', 7, spec);
    await editManifest<ExportManifest>(store, ref, (m) => {
      m.tta = ['mirror', 'gray'];
    });
    // Images at the model's size (no resize): evaluation reads their pixels as training data would.
    pngs = await noisePngs(6, 11, 3, () => SIZE);
    const pixels = await Promise.all(pngs.map((p) => sharp(p).raw().toBuffer()));
    const exported = await loadExportedModel(store, ref.prefix);
    const tta = testTimeAveragingOf(exported.manifest);
    expect(tta).toEqual({ views: ['mirror', 'gray'], normalization: { kind: 'unit' } });
    const data = arrayBatches({
      count: pngs.length,
      batchSize: 4,
      sampleShape: [SIZE, SIZE, 3],
      fill: (i, xs, offset) => {
        xs.set(normalizePixels(pixels[i], 3, { kind: 'unit' }), offset);
        return 0;
      },
    });
    const rows = (p: { probs: ArrayLike<number> }) =>
      pngs.map((_, i) => Object.fromEntries(CLASSES.map((c, k) => [c, p.probs[i * CLASSES.length + k]])));
    expected = rows(await collectPredictions(exported.model, data, { ...(tta ? { tta } : {}) }));
    plain = rows(await collectPredictions(exported.model, data));
    exported.model.dispose();
  });

  afterAll(closeAll);

  const expectClose = (got: Array<Record<string, number>>, want: Array<Record<string, number>>) => {
    expect(got).toHaveLength(want.length);
    got.forEach((row, i) => CLASSES.forEach((c) => expect(row[c]).toBeCloseTo(want[i][c], 5)));
  };

  it('the averaging changes the probabilities (so agreeing below means it is applied)', () => {
    const diff = Math.max(
      ...expected.flatMap((row, i) => CLASSES.map((c) => Math.abs(row[c] - plain[i][c]))),
    );
    expect(diff).toBeGreaterThan(1e-3);
  });

  for (const inference of ['in-process', 'thread'] as const)
    it(`serving (${inference}) answers the evaluation's probabilities; a model without tta the plain ones`, async () => {
      const e = engine({ inference });
      const served = await e.predict(ref, pngs, { topK: CLASSES.length, deadline: Date.now() + 60_000 });
      expectClose(served.predictions.map(byClass), expected);
      const old = await e.predict(plainRef, pngs, { topK: CLASSES.length, deadline: Date.now() + 60_000 });
      expectClose(old.predictions.map(byClass), plain);
    });

  it('batch prediction (one image per call, no batch wait, as the batch handler runs the engine) agrees', async () => {
    const e = engine({ maxBatchWaitMs: 0 });
    const answers = await Promise.all(
      pngs.map((p) => e.predict(ref, [p], { topK: CLASSES.length, deadline: Number.POSITIVE_INFINITY })),
    );
    expectClose(
      answers.map((a) => byClass(a.predictions[0])),
      expected,
    );
  });

  it('classifyImages (the library path of a downloaded model) agrees', async () => {
    const exported = await loadExportedModel(store, ref.prefix);
    const got = await classifyImages(exported, pngs, { topK: CLASSES.length });
    exported.model.dispose();
    expectClose(got.map(byClass), expected);
  });

  it('an explanation is of the image alone and says which views predict averages', async () => {
    const e = engine({ inference: 'in-process' });
    const x = await e.explain(ref, pngs[0], explainRequestSchema.parse({ method: 'grad-cam' }), {
      deadline: Date.now() + 60_000,
      overlay: false,
    });
    expect(x.testTimeViews).toEqual(['mirror', 'gray']);
    expect(x.probability).toBeCloseTo(plain[0][x.target.label], 4);
    const y = await e.explain(plainRef, pngs[0], explainRequestSchema.parse({ method: 'grad-cam' }), {
      deadline: Date.now() + 60_000,
      overlay: false,
    });
    expect(y.testTimeViews).toBeUndefined();
  });
});
