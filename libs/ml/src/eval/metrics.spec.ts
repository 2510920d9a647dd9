import {
  accuracy,
  argmaxRows,
  buildReport,
  calibration,
  classificationMetrics,
  confusionMatrix,
  downsampleCurve,
  logLoss,
  precisionRecallCurve,
  predictionsFromRows,
  topKAccuracy,
} from '.';

// Six samples, three classes; rows are probabilities.
//   sample  label  probs              argmax
//   0       0      .7 .2 .1           0  ok
//   1       0      .3 .6 .1           1  (top-2 ok)
//   2       1      .2 .5 .3           1  ok
//   3       1      .1 .3 .6           2  (top-2 ok)
//   4       2      .1 .1 .8           2  ok
//   5       2      .5 .4 .1           0  (top-2 miss: .1 is the lowest)
const rows = [
  [0.7, 0.2, 0.1],
  [0.3, 0.6, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.3, 0.6],
  [0.1, 0.1, 0.8],
  [0.5, 0.4, 0.1],
];
const labels = [0, 0, 1, 1, 2, 2];
const preds = predictionsFromRows(rows, labels);

describe('classification metrics', () => {
  it('accuracy and top-k', () => {
    const p = argmaxRows(preds);
    expect(Array.from(p)).toEqual([0, 1, 1, 2, 2, 0]);
    expect(accuracy(labels, p)).toBeCloseTo(3 / 6);
    expect(topKAccuracy(preds, 1)).toBeCloseTo(3 / 6);
    expect(topKAccuracy(preds, 2)).toBeCloseTo(5 / 6);
    expect(topKAccuracy(preds, 3)).toBe(1);
  });

  it('confusion matrix, per-class precision/recall/F1 and averages', () => {
    const cm = confusionMatrix(labels, argmaxRows(preds), 3);
    expect(cm).toEqual([
      [1, 1, 0],
      [0, 1, 1],
      [1, 0, 1],
    ]);
    const m = classificationMetrics(cm);
    // every class: tp 1, predicted 2, support 2 -> P = R = F1 = 0.5
    for (const c of m.perClass) expect(c).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(m.macro).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(m.weighted).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(m.micro.f1).toBe(0.5);
  });

  it('handles unbalanced classes and never-predicted classes (ratios with zero denominators are 0)', () => {
    // labels: 0 x3, 1 x1, 2 x1; predictions: all 0 except one 1 for the class-1 sample
    const cm = confusionMatrix([0, 0, 0, 1, 2], [0, 0, 1, 1, 0], 3);
    expect(cm).toEqual([
      [2, 1, 0],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    const m = classificationMetrics(cm);
    expect(m.perClass[0].precision).toBeCloseTo(2 / 3);
    expect(m.perClass[0].recall).toBeCloseTo(2 / 3);
    expect(m.perClass[0].f1).toBeCloseTo(2 / 3);
    expect(m.perClass[1]).toEqual({ precision: 0.5, recall: 1, f1: 2 / 3, support: 1 });
    expect(m.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(m.macro.precision).toBeCloseTo((2 / 3 + 0.5 + 0) / 3);
    expect(m.macro.recall).toBeCloseTo((2 / 3 + 1 + 0) / 3);
    expect(m.weighted.recall).toBeCloseTo((3 * (2 / 3) + 1 * 1 + 0) / 5);
    expect(m.weighted.precision).toBeCloseTo((3 * (2 / 3) + 0.5) / 5);
    expect(m.micro.precision).toBeCloseTo(3 / 5);
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(RangeError);
  });
});

describe('precision-recall curve', () => {
  it('matches a hand-computed curve, average precision and best-F1 threshold', () => {
    // scores sorted: .9(+) .8(-) .7(+) .6(+) .2(-)
    const c = precisionRecallCurve([0.9, 0.2, 0.7, 0.8, 0.6], [1, 0, 1, 0, 1]);
    expect(c.positives).toBe(3);
    expect(c.points.map((p) => p.threshold)).toEqual([0.9, 0.8, 0.7, 0.6, 0.2]);
    const expected = [
      [1, 1 / 3],
      [1 / 2, 1 / 3],
      [2 / 3, 2 / 3],
      [3 / 4, 1],
      [3 / 5, 1],
    ];
    c.points.forEach((p, i) => {
      expect(p.precision).toBeCloseTo(expected[i][0]);
      expect(p.recall).toBeCloseTo(expected[i][1]);
    });
    // AP = 1/3 * 1 + 0 * 1/2 + 1/3 * 2/3 + 1/3 * 3/4 + 0
    expect(c.averagePrecision).toBeCloseTo(1 / 3 + 2 / 9 + 1 / 4);
    // F1 per point: .5, .4, .667, .857, .75 -> threshold 0.6
    expect(c.best?.threshold).toBe(0.6);
    expect(c.best?.f1).toBeCloseTo(6 / 7);
  });

  it('groups tied scores into one point and reports null without positives', () => {
    const c = precisionRecallCurve([0.5, 0.5, 0.1], [1, 0, 0]);
    expect(c.points).toHaveLength(2);
    expect(c.points[0]).toEqual({ threshold: 0.5, precision: 0.5, recall: 1 });
    const none = precisionRecallCurve([0.3, 0.2], [0, 0]);
    expect(none.averagePrecision).toBeNull();
    expect(none.best).toBeNull();
  });

  it('downsamples keeping the ends', () => {
    const pts = Array.from({ length: 11 }, (_, i) => i);
    expect(downsampleCurve(pts, 3)).toEqual([0, 5, 10]);
    expect(downsampleCurve(pts, 20)).toEqual(pts);
  });
});

describe('calibration', () => {
  it('computes ECE and MCE with equal-width bins', () => {
    // Top confidences: .7 .6 .5 .6 .8 .5 ; correct: y n y n y n. Bins of 0.5 width: (0,.5] and (.5,1].
    const c = calibration(preds, 2);
    expect(c.bins[0]).toEqual({ lower: 0, upper: 0.5, count: 2, confidence: 0.5, accuracy: 0.5 });
    expect(c.bins[1].count).toBe(4);
    expect(c.bins[1].confidence).toBeCloseTo((0.7 + 0.6 + 0.6 + 0.8) / 4);
    expect(c.bins[1].accuracy).toBeCloseTo(2 / 4);
    expect(c.ece).toBeCloseTo((4 / 6) * Math.abs(0.5 - 0.675));
    expect(c.mce).toBeCloseTo(0.175);
    // perfectly confident and right: zero error
    expect(calibration(predictionsFromRows([[1, 0]], [0])).ece).toBe(0);
  });

  it('log loss is the mean negative log-probability of the true class', () => {
    const expected = -[0.7, 0.3, 0.5, 0.3, 0.8, 0.1].reduce((a, p) => a + Math.log(p), 0) / 6;
    expect(logLoss(preds)).toBeCloseTo(expected, 5);
  });
});

describe('buildReport', () => {
  it('assembles a JSON-serialisable report', () => {
    const r = buildReport(preds, {
      classNames: ['a', 'b', 'c'],
      topK: [1, 2, 9],
      calibrationBins: 2,
      maxCurvePoints: 3,
    });
    expect(r.accuracy).toBeCloseTo(0.5);
    expect(r.topK).toEqual([
      { k: 1, accuracy: 0.5 },
      { k: 2, accuracy: 5 / 6 },
    ]);
    expect(r.perClass.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(r.perClass[0].suggestedThreshold).not.toBeNull();
    expect(r.prCurves[0].points.length).toBeLessThanOrEqual(3);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(() => buildReport(preds, { classNames: ['x'] })).toThrow(RangeError);
  });
});
