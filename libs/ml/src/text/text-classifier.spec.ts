import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildReport } from '../eval/evaluate';
import { InMemoryArtifactStore } from '../export/memory-artifact-store';
import { countBuckets, FeatureVocabulary, hashedCounts, type FeatureConfig } from './features';
import { balancedClassWeights, fitSoftmaxLbfgs, LinearSoftmax, SoftmaxSgd } from './linear-model';
import {
  deserializeTextClassifier,
  exportTextClassifier,
  loadTextClassifier,
  serializeTextClassifier,
  TEXT_WEIGHTS_FILE,
} from './text-artifact';
import { DEFAULT_TEXT_CANDIDATES, trainTextClassifier, type LinearTextCandidate } from './train-text';
import { TextClassifier } from './text-classifier';
import { mixSeed, Rng, shuffleInPlace } from '../train/rng';
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
    const vocab = FeatureVocabulary.fromTraining(docs);
    const v = vocab.vectorize(countBuckets('red apple', CONFIG), CONFIG);
    const norm = Math.sqrt(v.values.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(
      vocab.vectorize(countBuckets('zzz qqq', { ...CONFIG, charNgrams: [0, 0] }), CONFIG).indices,
    ).toHaveLength(0);
  });

  it('separateNorms: word and character buckets in separate halves, each half of unit norm', () => {
    const cfg: FeatureConfig = { ...CONFIG, separateNorms: true };
    const docs = ['red apple pie', 'green apple', 'red car'].map((t) => countBuckets(t, cfg));
    const vocab = FeatureVocabulary.fromTraining(docs);
    const doc = countBuckets('red apple pie', cfg);
    const v = vocab.vectorize(doc, cfg);
    const half = 2 ** (cfg.hashBits - 1);
    const words = Array.from(v.indices).filter((c) => vocab.buckets[c] < half);
    const chars = Array.from(v.indices).filter((c) => vocab.buckets[c] >= half);
    // 3 words + 2 bigrams below the half; the character n-grams above it.
    expect(words).toHaveLength(5);
    expect(chars.length).toBeGreaterThan(10);
    const normOf = (cols: number[]) =>
      Math.sqrt(cols.reduce((s, c) => s + v.values[Array.from(v.indices).indexOf(c)] ** 2, 0));
    expect(normOf(words)).toBeCloseTo(1, 5);
    expect(normOf(chars)).toBeCloseTo(1, 5);
  });

  it("charSource 'whitespace' keeps punctuation in character n-grams; 'tokens' drops it", () => {
    const base: FeatureConfig = { ...CONFIG, wordNgrams: 0, charNgrams: [2, 2] };
    const ws: FeatureConfig = { ...base, charSource: 'whitespace' };
    // Tokens: "<a", "a>", "<a", "a>"  (twice "a"); white space: "<a", "a?", "?>", "<a", "a>".
    expect([...hashedCounts('a? a', base).values()].reduce((x, y) => x + y, 0)).toBe(4);
    expect([...hashedCounts('a? a', ws).values()].reduce((x, y) => x + y, 0)).toBe(5);
    expect(hashedCounts('what?', ws).size).toBeGreaterThan(hashedCounts('what', ws).size);
    expect(hashedCounts('what?', base)).toEqual(hashedCounts('what', base));
  });

  it('weights rarer features higher (smooth IDF)', () => {
    const cfg = { ...CONFIG, charNgrams: [0, 0] as [number, number], wordNgrams: 1 };
    const docs = ['common rare', 'common', 'common'].map((t) => countBuckets(t, cfg));
    const vocab = FeatureVocabulary.fromTraining(docs);
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

describe('linear softmax fitted by L-BFGS', () => {
  // 60 sparse samples, 3 classes, 12 features, overlapping (not separable): a unique L2 minimum.
  const rng = (() => {
    let s = 12345;
    return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  })();
  const xs = Array.from({ length: 60 }, (_, i) => {
    const cols = [i % 12, (i * 5 + 1) % 12, (i * 7 + 3) % 12].filter((c, j, a) => a.indexOf(c) === j);
    cols.sort((a, b) => a - b);
    return { indices: Uint32Array.from(cols), values: Float32Array.from(cols.map(() => 0.2 + rng())) };
  });
  const ys = xs.map((x, i) => (x.indices[0] % 3 === 0 && i % 4 !== 0 ? 0 : i % 3 === 1 ? 1 : 2));
  const weights = balancedClassWeights(ys, 3);
  const l2 = 0.05;
  /** The objective computed independently (dense, double precision). */
  const objective = (w: Float64Array, b: Float64Array) => {
    let f = 0;
    for (let i = 0; i < 12 * 3; i++) f += (l2 / 2) * w[i] * w[i];
    xs.forEach((x, n) => {
      const z = Array.from(b);
      x.indices.forEach((c, j) => {
        for (let k = 0; k < 3; k++) z[k] += w[c * 3 + k] * x.values[j];
      });
      const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
      f += (weights[ys[n]] * (lse - z[ys[n]])) / xs.length;
    });
    return f;
  };

  it('reaches the minimum: every finite-difference derivative of the objective is ~0 there', async () => {
    const model = new LinearSoftmax(12, 3);
    const r = await fitSoftmaxLbfgs(model, xs, ys, {
      l2,
      classWeights: weights,
      gradientTolerance: 1e-8,
      functionTolerance: 0,
    });
    expect(r.stop).toBe('gradient');
    const p = r.params;
    const w = p.slice(0, 36);
    const b = p.slice(36);
    expect(r.loss).toBeCloseTo(objective(w, b), 8);
    const h = 1e-5;
    for (let i = 0; i < 39; i++) {
      const plus = p.slice();
      const minus = p.slice();
      plus[i] += h;
      minus[i] -= h;
      const d =
        (objective(plus.slice(0, 36), plus.slice(36)) - objective(minus.slice(0, 36), minus.slice(36))) /
        (2 * h);
      expect(Math.abs(d)).toBeLessThan(1e-6);
    }
    // The float32 model holds the same parameters.
    expect(model.weights[5]).toBeCloseTo(p[5], 5);
    // SGD on the same data does not get lower.
    const sgdModel = new LinearSoftmax(12, 3);
    const sgd = new SoftmaxSgd(sgdModel, { learningRate: 0.5, l2, classWeights: weights });
    for (let e = 0; e < 50; e++)
      sgd.epoch(
        xs,
        ys,
        Array.from({ length: 60 }, (_, i) => i),
      );
    const sgdLoss = objective(Float64Array.from(sgdModel.weights), Float64Array.from(sgdModel.bias));
    expect(sgdLoss).toBeGreaterThanOrEqual(r.loss - 1e-9);
  });

  it('a warm start from the solution stops at once', async () => {
    const first = await fitSoftmaxLbfgs(new LinearSoftmax(12, 3), xs, ys, {
      l2,
      gradientTolerance: 1e-7,
      functionTolerance: 0,
    });
    const again = await fitSoftmaxLbfgs(new LinearSoftmax(12, 3), xs, ys, {
      l2,
      gradientTolerance: 1e-6,
      init: first.params,
    });
    expect(again.iterations).toBe(0);
    expect(again.loss).toBeCloseTo(first.loss, 10);
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

  it('members: the exported model is the weight-by-weight mean of its SGD runs (member 0 = the one-model run)', async () => {
    const base = { ...(DEFAULT_TEXT_CANDIDATES[0] as LinearTextCandidate), features: CONFIG };
    const noValidation = { texts: [], labels: new Int32Array(0) }; // the last epoch is kept
    const opts = { classNames, seed: 3, maxEpochs: 2 };
    const one = await trainTextClassifier(train, noValidation, {
      ...opts,
      candidates: [{ ...base, members: 1 }],
    });
    const two = await trainTextClassifier(train, noValidation, {
      ...opts,
      candidates: [{ ...base, members: 2 }],
    });
    // Member 1 by hand: its own order from its own seed, the same features and SGD settings.
    const vocab = FeatureVocabulary.fromTraining(train.texts.map((t) => countBuckets(t, CONFIG)));
    const xs = train.texts.map((t) => vocab.vectorize(countBuckets(t, CONFIG), CONFIG));
    const model = new LinearSoftmax(vocab.size, 3);
    const sgd = new SoftmaxSgd(model, {
      learningRate: base.learningRate,
      l2: base.l2,
      classWeights: balancedClassWeights(train.labels, 3),
    });
    const rng = new Rng(mixSeed(3, 0x6d656d, 1));
    const order = Uint32Array.from(xs, (_, i) => i);
    for (let e = 0; e < 2; e++) sgd.epoch(xs, train.labels, shuffleInPlace(order, rng));
    const w0 = (one.classifier as TextClassifier).model.weights;
    const w = (two.classifier as TextClassifier).model.weights;
    expect(w.length).toBe(model.weights.length);
    let worst = 0;
    for (let i = 0; i < w.length; i++)
      worst = Math.max(worst, Math.abs(w[i] - (w0[i] + model.weights[i]) / 2));
    expect(worst).toBeLessThan(1e-6);
    // The two runs differ (else the average would say nothing).
    let apart = 0;
    for (let i = 0; i < w.length; i++) apart = Math.max(apart, Math.abs(w0[i] - model.weights[i]));
    expect(apart).toBeGreaterThan(1e-3);
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
