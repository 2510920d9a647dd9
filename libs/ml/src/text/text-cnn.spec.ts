import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildReport } from '../eval/evaluate';
import { InMemoryArtifactStore } from '../export/memory-artifact-store';
import { Rng } from '../train/rng';
import {
  deserializeTextClassifier,
  exportTextClassifier,
  loadTextClassifier,
  serializeTextClassifier,
} from './text-artifact';
import { TextCnn, TextCnnTrainer, TokenVocabulary, type TextCnnConfig } from './text-cnn';
import { TEXT_CNN_CANDIDATE, trainTextClassifier } from './train-text';
import { DEFAULT_TOKENIZER } from './tokenize';

const SMALL: TextCnnConfig = {
  version: 1,
  tokenizer: DEFAULT_TOKENIZER,
  hashBits: 16,
  maxTokens: 32,
  embeddingDim: 4,
  widths: [1, 2],
  filters: 3,
};

/** The e2e fixture: 120 real fortunes, en/it/es (test/fixtures/text/README.md). */
function fixture(): { texts: string[]; labels: string[] } {
  const rows = parse<{ text: string; label: string }>(
    fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/text/fortunes-languages-small.csv')),
    { columns: true },
  );
  return { texts: rows.map((r) => r.text), labels: rows.map((r) => r.label) };
}

describe('TokenVocabulary', () => {
  it('gives seen tokens rows 1..V in bucket order and every unseen token row 0, up to maxTokens', () => {
    const vocab = TokenVocabulary.fromTraining(['red apple', 'green apple'], SMALL);
    expect(vocab.rows).toBe(4);
    // apple red zebra 東 東京 京: the first two known (case-folded), the rest unknown.
    const ids = Array.from(vocab.ids('Apple RED zebra 東京', SMALL));
    expect(ids.slice(0, 2).every((r) => r > 0 && r < 4)).toBe(true);
    expect(ids.slice(2)).toEqual([0, 0, 0, 0]);
    expect(vocab.ids('a '.repeat(100), SMALL).length).toBe(32);
  });
});

describe('TextCnn backpropagation', () => {
  // Loss of one sample with dropout off, as a function of the weights.
  const lossOf = (m: TextCnn, ids: Int32Array, y: number) => -Math.log(m.forward(ids, m.newPass())[y]);

  it('every weight moves against the numeric gradient of the loss (dense: Adam, embeddings: AdaGrad)', () => {
    const model = TextCnn.init(SMALL, 6, 3, new Rng(7));
    const ids = Int32Array.of(1, 2, 3, 4, 5, 3);
    const y = 2;
    const before = model.copyWeights();
    const trainer = new TextCnnTrainer(model, new Rng(1), {
      dropout: 0,
      batchSize: 1,
      learningRate: 1e-4,
      embeddingLearningRate: 1e-4,
    });
    trainer.epoch([ids], [y], [0]);
    const after = model.copyWeights();
    // Back to the old weights, then central differences per weight.
    const w = model.weights;
    const live = [w.embeddings, ...w.conv, ...w.convBias, w.out, w.outBias];
    const old = [before.embeddings, ...before.conv, ...before.convBias, before.out, before.outBias];
    const moved = [after.embeddings, ...after.conv, ...after.convBias, after.out, after.outBias];
    live.forEach((a, i) => a.set(old[i]));
    const loss0 = lossOf(model, ids, y);
    let checked = 0;
    let against = 0;
    live.forEach((arr, p) => {
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + 1e-3;
        const up = lossOf(model, ids, y);
        arr[i] = keep - 1e-3;
        const down = lossOf(model, ids, y);
        arr[i] = keep;
        const g = (up - down) / 2e-3;
        const delta = moved[p][i] - old[p][i];
        if (Math.abs(g) < 1e-3) {
          // No gradient (a unit off, a token absent): an untouched weight stays (Adam starts from zero moments).
          if (Math.abs(g) < 1e-7) expect(Math.abs(delta)).toBeLessThan(1e-6);
          continue;
        }
        checked += 1;
        if (Math.sign(delta) === -Math.sign(g)) against += 1;
      }
    });
    expect(checked).toBeGreaterThan(20);
    expect(against).toBe(checked);
    live.forEach((a, i) => a.set(moved[i]));
    expect(lossOf(model, ids, y)).toBeLessThan(loss0);
  });
});

describe('TextCnnTrainer slices', () => {
  it('an epoch run as slices of whole batches updates the weights exactly as one pass', () => {
    const seqs = Array.from({ length: 40 }, (_, i) =>
      Int32Array.of(1 + (i % 5), 1 + ((i * 3) % 5), (i * 7) % 6),
    );
    const ys = seqs.map((_, i) => i % 3);
    const order = Uint32Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
    const train = (slices: number[]) => {
      const model = TextCnn.init(SMALL, 6, 3, new Rng(3));
      const trainer = new TextCnnTrainer(model, new Rng(4), { batchSize: 8 });
      let start = 0;
      for (const n of slices) {
        trainer.epoch(seqs, ys, order.subarray(start, start + n));
        start += n;
      }
      return model.copyWeights();
    };
    expect(train([16, 24])).toEqual(train([40]));
  });
});

describe('the text CNN on real text (120 fortunes, 3 languages)', () => {
  const { texts, labels } = fixture();
  const classNames = ['en', 'es', 'it'];
  const y = labels.map((l) => classNames.indexOf(l));
  const pick = (keep: (i: number) => boolean) => {
    const idx = texts.map((_, i) => i).filter(keep);
    return { texts: idx.map((i) => texts[i]), labels: Int32Array.from(idx.map((i) => y[i])) };
  };
  const train = pick((i) => i % 5 > 1);
  const validation = pick((i) => i % 5 === 1);
  const test = pick((i) => i % 5 === 0);

  it('identifies the language of held-out texts; deterministic; its artifact predicts the same', async () => {
    const cnn = { ...TEXT_CNN_CANDIDATE, cnn: { ...TEXT_CNN_CANDIDATE.cnn, embeddingDim: 32, filters: 32 } };
    const a = await trainTextClassifier(train, validation, { classNames, seed: 5, candidates: [cnn] });
    expect(a.classifier.algorithm).toBe('text-cnn');
    const report = buildReport(
      { numClasses: 3, probs: a.classifier.predictProba(test.texts), labels: test.labels },
      { classNames },
    );
    // Runs here: 0.875 (21 of the 24 held-out texts; chance 0.33). Threshold with margin.
    expect(report.accuracy).toBeGreaterThanOrEqual(0.75);
    const b = await trainTextClassifier(train, validation, { classNames, seed: 5, candidates: [cnn] });
    expect(Array.from(b.classifier.predictProba(test.texts))).toEqual(
      Array.from(a.classifier.predictProba(test.texts)),
    );

    const { modelJson, weights } = serializeTextClassifier(a.classifier);
    expect(modelJson.algorithm).toBe('text-cnn');
    const back = deserializeTextClassifier(JSON.parse(JSON.stringify(modelJson)), weights);
    expect(Array.from(back.predictProba(test.texts))).toEqual(
      Array.from(a.classifier.predictProba(test.texts)),
    );
    const store = new InMemoryArtifactStore();
    const manifest = await exportTextClassifier(a.classifier, store, 'm/2/', { metrics: {} });
    expect(manifest.backboneId).toBe('text-cnn');
    const loaded = await loadTextClassifier(store, 'm/2/');
    expect(loaded.classifier.classify(test.texts.slice(0, 4))).toEqual(
      a.classifier.classify(test.texts.slice(0, 4)),
    );

    // A weights file whose declared shapes do not match the config is refused.
    const bad = JSON.parse(JSON.stringify(modelJson)) as { cnn: { filters: number } };
    bad.cnn.filters += 1;
    expect(() => deserializeTextClassifier(bad, weights)).toThrow(/expected/);
  });
});
