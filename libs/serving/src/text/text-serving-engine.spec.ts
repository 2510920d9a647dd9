import { exportTextClassifier, InMemoryArtifactStore, trainTextClassifier } from '@modelsmith/ml';
import { ModelInputMismatchError, TextInputError, TextServingEngine } from './text-serving-engine';

const TRAIN = {
  texts: ['the cat sat on the mat', 'a dog and a cat', 'il gatto è sul tappeto', 'un cane e un gatto'],
  labels: Int32Array.of(0, 0, 1, 1),
};

describe('TextServingEngine', () => {
  const store = new InMemoryArtifactStore();
  const ref = { modelId: 'm1', version: 'v1', prefix: 'models/m1/' };
  let engine: TextServingEngine;

  beforeAll(async () => {
    const r = await trainTextClassifier(TRAIN, TRAIN, { classNames: ['en', 'it'], seed: 1 });
    await exportTextClassifier(r.classifier, store, ref.prefix, { metrics: {}, maxChars: 100 });
    await store.put(
      'models/img/manifest.json',
      new TextEncoder().encode(JSON.stringify({ task: 'image-classification' })),
    );
    engine = new TextServingEngine({ reader: store, maxModelBytes: 64 * 1024 * 1024, maxInstances: 3 });
  });

  afterAll(() => engine.close());

  it('classifies texts with the top-k classes, best first', async () => {
    const r = await engine.predict(ref, ['the dog sat', 'il cane'], { topK: 5 });
    expect(r.predictions.map((p) => p.label)).toEqual(['en', 'it']);
    for (const p of r.predictions) {
      expect(p.top).toHaveLength(2);
      expect(p.top[0].score).toBeGreaterThanOrEqual(p.top[1].score);
      expect(p.top[0].score + p.top[1].score).toBeCloseTo(1, 5);
    }
    expect(engine.stats().models).toHaveLength(1);
  });

  it.each([
    [['ok', 5], 'instances[1]', /string/],
    [['ok', '   '], 'instances[1]', /empty/],
    [['x'.repeat(101)], 'instances[0]', /at most 100/],
    [[], 'instances', /at least one/],
    [['a', 'b', 'c', 'd'], 'instances', /at most 3/],
  ])('refuses %j naming %s', async (instances, field, message) => {
    const e = await engine.predict(ref, instances, { topK: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TextInputError);
    expect((e as TextInputError).field).toBe(field);
    expect((e as Error).message).toMatch(message);
  });

  it('refuses text for a model that is not a text model, and says what it is', async () => {
    const img = { modelId: 'img', version: 'v1', prefix: 'models/img/' };
    expect(await engine.isTextModel(img)).toBe(false);
    expect(await engine.isTextModel(ref)).toBe(true);
    const e = await engine.predict(img, ['hello'], { topK: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelInputMismatchError);
    expect((e as ModelInputMismatchError).modelTask).toBe('image-classification');
  });

  it('explains texts with word weights, checks instances as predict does, and refuses an unknown target', async () => {
    const request = { samples: 64, maxWords: 50, seed: 1 };
    const [r] = await engine.explain(ref, ['il gatto e il cane'], request);
    expect(r).toMatchObject({ modelId: 'm1', method: 'lime', target: { index: 1, label: 'it' } });
    expect(r.cost.modelTexts).toBe(64);
    expect(r.words.map((w) => w.word).sort()).toEqual(['cane', 'e', 'gatto', 'il']);
    expect(r.words.find((w) => w.word === 'il')!.spans).toEqual([
      [0, 2],
      [11, 13],
    ]);
    const bad = await engine.explain(ref, ['ok', 5], request).catch((x: unknown) => x);
    expect((bad as TextInputError).field).toBe('instances[1]');
    await expect(engine.explain(ref, ['ok'], { ...request, target: 2 })).rejects.toMatchObject({
      code: 'EXPLAIN_INPUT_MISMATCH',
    });
  });
});
