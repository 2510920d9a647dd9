import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildReport } from '../eval/evaluate';
import { InMemoryArtifactStore } from '../export/memory-artifact-store';
import { countBuckets, FeatureVocabulary, hashedCounts, type FeatureConfig } from './features';
import { balancedClassWeights, LinearSoftmax, SoftmaxSgd } from './linear-model';
import {
  deserializeTextClassifier,
  exportTextClassifier,
  loadTextClassifier,
  serializeTextClassifier,
  TEXT_WEIGHTS_FILE,
} from './text-artifact';
import { DEFAULT_TEXT_CANDIDATES, trainTextClassifier } from './train-text';
import { DEFAULT_TOKENIZER } from './tokenize';

const CONFIG: FeatureConfig = {
  version: 1,
  tokenizer: DEFAULT_TOKENIZER,
  hashBits: 20,
  wordNgrams: 2,
  charNgrams: [2, 4],
  sublinearTf: true,
  idf: true,
};

/** The e2e fixture: 120 real fortunes, en/it/es (test/fixtures/text/README.md). */
function fixture(): { texts: string[]; labels: string[] } {
  const rows = parse<{ text: string; label: string }>(
    fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/text/fortunes-languages-small.csv')),
    { columns: true },
  );
  return { texts: rows.map((r) => r.text), labels: rows.map((r) => r.label) };
}

describe('hashed n-gram features', () => {
  it('counts word uni/bigrams and character n-grams; the same text always gives the same buckets', () => {
    const a = hashedCounts('the cat the cat', { ...CONFIG, charNgrams: [0, 0] });
    // words: the, cat (x2 each); bigrams: "the cat" x2, "cat the" x1
    expect([...a.values()].sort()).toEqual([1, 2, 2, 2]);
    expect(hashedCounts('Ünïcode 東京 👍', CONFIG)).toEqual(hashedCounts('Ünïcode 東京 👍', CONFIG));
  });

  it('L2-normalizes TF-IDF vectors and drops buckets the vocabulary never saw', () => {
    const docs = ['red apple', 'green apple', 'red car'].map((t) => countBuckets(t, CONFIG));
    const vocab = FeatureVocabulary.fit(docs);
    const v = vocab.vectorize(countBuckets('red apple', CONFIG), CONFIG);
    const norm = Math.sqrt(v.values.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(
      vocab.vectorize(countBuckets('zzz qqq', { ...CONFIG, charNgrams: [0, 0] }), CONFIG).indices,
    ).toHaveLength(0);
  });

  it('weights rarer features higher (smooth IDF)', () => {
    const cfg = { ...CONFIG, charNgrams: [0, 0] as [number, number], wordNgrams: 1 };
    const docs = ['common rare', 'common', 'common'].map((t) => countBuckets(t, cfg));
    const vocab = FeatureVocabulary.fit(docs);
    const v = vocab.vectorize(countBuckets('common rare', cfg), cfg);
    const [a, b] = Array.from(v.values).sort((x, y) => x - y);
    expect(b).toBeGreaterThan(a);
  });
});

describe('linear softmax with AdaGrad SGD', () => {
  it('balanced class weights are n / (classes x count)', () => {
    const w = balancedClassWeights([0, 0, 0, 1], 2);
    expect(w[0]).toBeCloseTo(4 / 6, 6);
    expect(w[1]).toBeCloseTo(2, 6);
  });

  it('fits a separable toy problem: the loss falls and predictions become right', () => {
    const xs = [0, 1, 2, 3].map((f) => ({ indices: Uint32Array.of(f), values: Float32Array.of(1) }));
    const ys = [0, 1, 2, 0];
    const model = new LinearSoftmax(4, 3);
    const sgd = new SoftmaxSgd(model, { learningRate: 0.5 });
    const first = sgd.epoch(xs, ys, [0, 1, 2, 3]);
    let last = first;
    for (let e = 0; e < 30; e++) last = sgd.epoch(xs, ys, [3, 2, 1, 0]);
    expect(last).toBeLessThan(first / 5);
    xs.forEach((x, i) => {
      const p = model.predict(x);
      expect(p.indexOf(Math.max(...p))).toBe(ys[i]);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });
  });
});

describe('trainTextClassifier on real text (120 fortunes, 3 languages)', () => {
  const { texts, labels } = fixture();
  const classNames = ['en', 'es', 'it'];
  const y = labels.map((l) => classNames.indexOf(l));
  // Every 5th text is held out (24), every 5th+1 is validation (24), the rest train (72).
  const pick = (r: number) => {
    const idx = texts.map((_, i) => i).filter((i) => i % 5 === r);
    return { texts: idx.map((i) => texts[i]), labels: Int32Array.from(idx.map((i) => y[i])) };
  };
  const rest = texts.map((_, i) => i).filter((i) => i % 5 > 1);
  const train = { texts: rest.map((i) => texts[i]), labels: Int32Array.from(rest.map((i) => y[i])) };
  const validation = pick(1);
  const test = pick(0);

  it('identifies the language of held-out texts, deterministically for a seed', async () => {
    const a = await trainTextClassifier(train, validation, { classNames, seed: 3 });
    const report = buildReport(
      { numClasses: 3, probs: a.classifier.predictProba(test.texts), labels: test.labels },
      { classNames },
    );
    // Runs here: 24/24 correct. Threshold with margin.
    expect(report.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(a.trials.length).toBe(DEFAULT_TEXT_CANDIDATES.length);
    const b = await trainTextClassifier(train, validation, { classNames, seed: 3 });
    expect(Array.from(b.classifier.predictProba(test.texts))).toEqual(
      Array.from(a.classifier.predictProba(test.texts)),
    );
  });

  it('stops at the deadline with the best model so far', async () => {
    const r = await trainTextClassifier(train, validation, { classNames, deadline: Date.now() - 1 });
    expect(r.stoppedByDeadline).toBe(true);
    expect(r.trials).toHaveLength(1);
    expect(r.classifier.classify(['buongiorno a tutti gli amici'])[0].top).toHaveLength(3);
  });

  it('round-trips through its artifact files and predicts the same', async () => {
    const r = await trainTextClassifier(train, validation, {
      classNames,
      candidates: DEFAULT_TEXT_CANDIDATES.slice(0, 1),
    });
    const { modelJson, weights } = serializeTextClassifier(r.classifier);
    const back = deserializeTextClassifier(JSON.parse(JSON.stringify(modelJson)), weights);
    expect(Array.from(back.predictProba(test.texts))).toEqual(
      Array.from(r.classifier.predictProba(test.texts)),
    );

    const store = new InMemoryArtifactStore();
    const manifest = await exportTextClassifier(r.classifier, store, 'm/1/', { metrics: { accuracy: 1 } });
    expect(manifest.files.map((f) => f.path).sort()).toEqual(['text-model.json', 'text-weights.bin']);
    const loaded = await loadTextClassifier(store, 'm/1/');
    expect(loaded.classifier.classify(test.texts.slice(0, 3))).toEqual(
      r.classifier.classify(test.texts.slice(0, 3)),
    );

    // A tampered weights file is refused.
    const tampered = Uint8Array.from(await store.get(`m/1/${TEXT_WEIGHTS_FILE}`));
    tampered[0] ^= 1;
    await store.put(`m/1/${TEXT_WEIGHTS_FILE}`, tampered);
    await expect(loadTextClassifier(store, 'm/1/')).rejects.toMatchObject({
      code: 'ARTIFACT_INTEGRITY_MISMATCH',
    });
  });
});
