import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Rng } from '../train/rng';
import { trainTextClassifier } from '../text/train-text';
import { limeText, textWords } from './text-lime';

describe('textWords', () => {
  it('groups case-folded word occurrences with their offsets, in any script', () => {
    const w = textWords("The cat, the CAT! l'amico 東京 👍");
    expect(w.map((x) => x.word)).toEqual(['the', 'cat', "l'amico", '東京', '👍']);
    expect(w[0].spans).toEqual([
      [0, 3],
      [9, 12],
    ]);
    expect(textWords('... !!! ')).toEqual([]);
  });
});

describe('limeText', () => {
  // A toy model: p(class 1) rises with each "good" and falls with each "bad"; other words do nothing.
  const toy = (texts: readonly string[]) => {
    const out = new Float64Array(texts.length * 2);
    texts.forEach((t, i) => {
      const words = t.toLowerCase().split(/\W+/);
      const z = words.filter((x) => x === 'good').length - 2 * words.filter((x) => x === 'bad').length;
      const p = 1 / (1 + Math.exp(-z));
      out[i * 2] = 1 - p;
      out[i * 2 + 1] = p;
    });
    return out;
  };

  it('finds the words a model uses, with their sign, and nothing in the others', () => {
    const r = limeText(toy, 2, 'a good film , not a bad plot , good actors', { target: 1, seed: 3 });
    expect(r.target).toBe(1);
    expect(r.words[0].word).toBe('bad');
    expect(r.words[0].weight).toBeLessThan(-0.05);
    const good = r.words.find((w) => w.word === 'good')!;
    expect(good.weight).toBeGreaterThan(0.05);
    expect(good.spans).toEqual([
      [2, 6],
      [31, 35],
    ]);
    for (const w of r.words.filter((x) => x.word !== 'good' && x.word !== 'bad'))
      expect(Math.abs(w.weight)).toBeLessThan(0.02);
    expect(r.modelTexts).toBe(256);
    // Seeded: the same request gives the same answer.
    expect(limeText(toy, 2, 'a good film , not a bad plot , good actors', { target: 1, seed: 3 })).toEqual({
      ...r,
      ms: expect.any(Number) as number,
    });
  });

  it('explains the predicted class by default; a text without words gets no words', () => {
    expect(limeText(toy, 2, 'bad bad', { samples: 16 }).target).toBe(0);
    const empty = limeText(toy, 2, '?!', { samples: 16 });
    expect(empty.words).toEqual([]);
    expect(empty.modelTexts).toBe(1);
    expect(() => limeText(toy, 2, 'good', { target: 2 })).toThrow(RangeError);
  });
});

/**
 * Faithfulness on a real model (a deletion test, as for images): removing the words LIME ranks
 * highest lowers p(predicted class) more than removing as many random words.
 */
describe('limeText on a trained language classifier (120 real fortunes, en/es/it)', () => {
  const rows = parse<{ text: string; label: string }>(
    fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/text/fortunes-languages-small.csv')),
    { columns: true },
  );
  const classNames = ['en', 'es', 'it'];
  const pick = (keep: (i: number) => boolean) => {
    const idx = rows.map((_, i) => i).filter(keep);
    return {
      texts: idx.map((i) => rows[i].text),
      labels: Int32Array.from(idx.map((i) => classNames.indexOf(rows[i].label))),
    };
  };

  it('ranks words so that removing the top ones lowers p(class) more than removing random ones', async () => {
    const train = pick((i) => i % 5 > 1);
    const validation = pick((i) => i % 5 === 1);
    const test = pick((i) => i % 5 === 0);
    const { classifier } = await trainTextClassifier(train, validation, { classNames, seed: 3 });
    const proba = (t: readonly string[]) => classifier.predictProba(t);
    const rng = new Rng(7);
    let better = 0;
    let dropTop = 0;
    let dropRandom = 0;
    for (const text of test.texts) {
      const r = limeText(proba, 3, text, { seed: 1 });
      const k = Math.max(1, Math.round(r.words.length / 5));
      const without = (spans: Array<[number, number]>) => {
        let out = text;
        for (const [s, e] of [...spans].sort((a, b) => b[0] - a[0]))
          out = out.slice(0, s) + ' ' + out.slice(e);
        return proba([out])[r.target];
      };
      const top = r.probability - without(r.words.slice(0, k).flatMap((w) => w.spans));
      let random = 0;
      for (let rep = 0; rep < 5; rep++) {
        const shuffled = [...r.words].sort(() => rng.next() - 0.5);
        random += (r.probability - without(shuffled.slice(0, k).flatMap((w) => w.spans))) / 5;
      }
      if (top > random) better++;
      dropTop += top / test.texts.length;
      dropRandom += random / test.texts.length;
    }
    process.stderr.write(
      `text LIME deletion: top-20% words drop p by ${dropTop.toFixed(3)}, random ${dropRandom.toFixed(3)}; ` +
        `better on ${better}/${test.texts.length}\n`,
    );
    expect(better / test.texts.length).toBeGreaterThanOrEqual(0.8);
    expect(dropTop).toBeGreaterThan(2 * dropRandom);
  });
});
