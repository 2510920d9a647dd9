import { chooseTestTimeViews, testTimeCandidates } from './test-time-views';

/** Two samples of class 0 and 1; `rows` their probabilities of [class 0, class 1]. */
const preds = (rows: [number, number][]) => ({
  numClasses: 2,
  probs: Float32Array.from(rows.flat()),
  labels: Int32Array.from([0, 1]),
});

describe('chooseTestTimeViews (on validation)', () => {
  const views = testTimeCandidates(3, ['image', 'mirror', 'gray']);
  const plain = preds([
    [0.7, 0.3],
    [0.6, 0.4], // wrong
  ]);

  it('tries the mirror, and the gray view for a colour model whose head trained on it', () => {
    expect(views).toEqual(['mirror', 'gray']);
    expect(testTimeCandidates(1, ['image', 'mirror', 'gray'])).toEqual(['mirror']);
    expect(testTimeCandidates(3, ['image'])).toEqual(['mirror']);
  });

  it('keeps the averaging when its accuracy is higher, even with a higher log loss', () => {
    const averaged = preds([
      [0.51, 0.49],
      [0.49, 0.51],
    ]);
    const c = chooseTestTimeViews(views, plain, averaged);
    expect(c.averaged.accuracy).toBe(1);
    expect(c.plain.accuracy).toBe(0.5);
    expect(c.averaged.logLoss).toBeGreaterThan(0);
    expect(c.views).toEqual(['mirror', 'gray']);
  });

  it('on equal accuracy keeps it only with a strictly lower log loss', () => {
    const better = preds([
      [0.8, 0.2],
      [0.55, 0.45],
    ]);
    const worse = preds([
      [0.6, 0.4],
      [0.6, 0.4],
    ]);
    expect(chooseTestTimeViews(views, plain, better).views).toEqual(['mirror', 'gray']);
    expect(chooseTestTimeViews(views, plain, worse).views).toEqual([]);
  });

  it('a tie on both, lower accuracy, or no candidate view keeps the plain model', () => {
    expect(chooseTestTimeViews(views, plain, plain).views).toEqual([]);
    const lowerAccuracy = preds([
      [0.45, 0.55],
      [0.6, 0.4],
    ]);
    expect(chooseTestTimeViews(views, plain, lowerAccuracy).views).toEqual([]);
    const best = preds([
      [0.9, 0.1],
      [0.1, 0.9],
    ]);
    const none = chooseTestTimeViews([], plain, best);
    expect(none.views).toEqual([]);
    expect(none.averaged.accuracy).toBe(1);
  });
});
