import {
  REPLACE_Z,
  candidateFromMetrics,
  chooseModel,
  discordant,
  labelsKey,
  packCorrect,
  replacesIncumbent,
  unpackCorrect,
  type ChoiceCandidate,
} from './model-choice';

/** A candidate right on the images marked 1 in `bits` (one character per validation image). */
const trial = (index: number, bits: string, rung = 0, imagesKey = 'k'): ChoiceCandidate => {
  const correct = Uint8Array.from(bits, (b) => Number(b));
  return {
    index,
    rung,
    accuracy: correct.reduce((s, v) => s + v, 0) / correct.length,
    correct,
    imagesKey,
  };
};

describe('model choice: a later trial must beat the incumbent by more than the paired noise', () => {
  it('one image more on the same 38 images never replaces the incumbent, whatever the disagreement', () => {
    // 30 of 38 right (the B run's frozen head) vs 31 of 38 (the fine-tuned trial that won by one image).
    const head = trial(0, '1'.repeat(30) + '0'.repeat(8));
    // Same images but one: only the candidate right on image 30.
    const close = trial(8, '1'.repeat(31) + '0'.repeat(7));
    // 4 images only it gets right, 3 only the head gets right: still one more overall.
    const other = trial(9, '1'.repeat(27) + '000' + '1111' + '0'.repeat(4));
    expect(close.accuracy).toBeGreaterThan(head.accuracy);
    expect(other.accuracy).toBeCloseTo(31 / 38, 9);
    expect(replacesIncumbent(close, head)).toBe(false);
    expect(replacesIncumbent(other, head)).toBe(false);
    expect(chooseModel([other, close, head])?.index).toBe(0);
  });

  it('a paired advantage above REPLACE_Z standard errors replaces it; a tie or a loss never does', () => {
    const inc = trial(0, '1'.repeat(20) + '0'.repeat(20));
    // b = 5 only the candidate right, c = 1 only the incumbent: (5 - 1) / sqrt(6) = 1.63 > 1.
    const better = trial(1, '0' + '1'.repeat(19) + '11111' + '0'.repeat(15));
    const d = discordant(better, inc)!;
    expect(d).toEqual({ onlyA: 5, onlyB: 1 });
    expect((d.onlyA - d.onlyB) / Math.sqrt(d.onlyA + d.onlyB)).toBeGreaterThan(REPLACE_Z);
    expect(replacesIncumbent(better, inc)).toBe(true);
    // Two images more with no image lost: 2 / sqrt(2) = 1.41.
    expect(replacesIncumbent(trial(2, '1'.repeat(22) + '0'.repeat(18)), inc)).toBe(true);
    // The same results, and fewer right: never.
    expect(replacesIncumbent(trial(3, '1'.repeat(20) + '0'.repeat(20), 2), inc)).toBe(false);
    expect(replacesIncumbent(inc, better)).toBe(false);
  });

  it('takes the trials in index order (not the order they finished), each against the incumbent then', () => {
    const t0 = trial(0, '1'.repeat(10) + '0'.repeat(30));
    const t1 = trial(1, '1'.repeat(20) + '0'.repeat(20)); // clearly better than t0
    const t2 = trial(2, '1'.repeat(21) + '0'.repeat(19)); // one image better than t1: not enough
    const t3 = trial(3, '1'.repeat(30) + '0'.repeat(10)); // clearly better than t1
    expect(chooseModel([t2, t0, t1])?.index).toBe(1);
    expect(chooseModel([t3, t2, t1, t0])?.index).toBe(3);
    expect(chooseModel([])).toBeUndefined();
  });

  it('without per-image results, or on other images: higher accuracy, then the higher rung (the rule before)', () => {
    const plain = (index: number, accuracy: number, rung = 0): ChoiceCandidate => ({ index, rung, accuracy });
    expect(chooseModel([plain(0, 0.789), plain(1, 0.816)])?.index).toBe(1);
    expect(chooseModel([plain(0, 0.8, 1), plain(1, 0.8, 0)])?.index).toBe(0);
    expect(chooseModel([plain(0, 0.8, 0), plain(1, 0.8, 1)])?.index).toBe(1);
    // One trial with results, one without: not comparable image by image.
    const withBits = trial(0, '1'.repeat(30) + '0'.repeat(8));
    expect(chooseModel([withBits, plain(1, 31 / 38)])?.index).toBe(1);
    // Different images (another label order or count): compared by accuracy.
    expect(chooseModel([withBits, trial(1, '1'.repeat(31) + '0'.repeat(7), 0, 'other')])?.index).toBe(1);
    expect(discordant(withBits, trial(1, '1'.repeat(30), 0))).toBeUndefined();
  });

  it('a continuation of the incumbent replaces it when it gets more images right at all; of another trial, by the margin', () => {
    // Fashion-MNIST, round 6: the default recipe's trial 310 of 400 right, its continuation 313.
    const parent = trial(1, '1'.repeat(310) + '0'.repeat(90), 2);
    const bits = '1'.repeat(308) + '00' + '11111' + '0'.repeat(85); // b = 5, c = 2: z = 3 / sqrt(7) = 1.13
    const small = '1'.repeat(309) + '0' + '11' + '0'.repeat(88); // b = 2, c = 1: z = 0.58
    const cont = (index: number, b: string, of = 1): ChoiceCandidate => ({
      ...trial(index, b, 2),
      continuationOf: of,
    });
    expect(replacesIncumbent(trial(2, small, 2), parent)).toBe(false);
    expect(replacesIncumbent(cont(2, small), parent)).toBe(true);
    expect(chooseModel([parent, cont(2, small)])?.index).toBe(2);
    // A tie or a loss keeps the parent.
    expect(replacesIncumbent(cont(2, '1'.repeat(309) + '01' + '0'.repeat(89)), parent)).toBe(false);
    expect(replacesIncumbent(cont(2, '1'.repeat(309) + '0'.repeat(91)), parent)).toBe(false);
    // A continuation of a trial that is not the incumbent meets the usual margin.
    expect(replacesIncumbent(cont(3, small, 0), parent)).toBe(false);
    expect(replacesIncumbent(cont(3, bits, 0), parent)).toBe(true);
    // Without per-image results: a higher accuracy (a tie keeps the parent, whatever the rung).
    const plain = (index: number, accuracy: number, rung = 0): ChoiceCandidate => ({ index, rung, accuracy });
    expect(replacesIncumbent({ ...plain(2, 0.7825, 3), continuationOf: 1 }, plain(1, 0.775, 2))).toBe(true);
    expect(replacesIncumbent({ ...plain(2, 0.775, 3), continuationOf: 1 }, plain(1, 0.775, 2))).toBe(false);
  });

  it('packs per-image results to base64 and back, and keys label orders', () => {
    const bits = Uint8Array.from({ length: 103 }, (_, i) => ((i * 7919) % 3 === 0 ? 1 : 0));
    const packed = packCorrect(bits);
    expect(packed.length).toBe(Math.ceil(Math.ceil(103 / 8) / 3) * 4);
    expect(unpackCorrect(packed, 103)).toEqual(bits);
    expect(labelsKey([0, 1, 2, 1])).toBe(labelsKey(Int32Array.from([0, 1, 2, 1])));
    expect(labelsKey([0, 1, 2, 1])).not.toBe(labelsKey([0, 1, 1, 2]));
    expect(labelsKey([0, 1, 2, 1]).startsWith('4:')).toBe(true);
    const c = candidateFromMetrics(5, 1, 0.5, { validationCorrect: packed, validationImages: '103:abc' });
    expect(c).toMatchObject({ index: 5, rung: 1, accuracy: 0.5, imagesKey: '103:abc' });
    expect(c.correct).toEqual(bits);
    expect(candidateFromMetrics(5, 1, 0.5, { validationAccuracy: 0.5 }).correct).toBeUndefined();
  });
});
