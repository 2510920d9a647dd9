import {
  accuracy,
  argmaxRows,
  logLoss,
  TEST_TIME_VIEWS,
  type FeatureView,
  type Predictions,
  type TestTimeView,
} from '@modelsmith/ml';

/** Accuracy and mean log loss of a model's predictions on one split. */
export interface SplitScore {
  accuracy: number;
  logLoss: number;
}

/** Whether a model keeps test-time averaging, and what it scored on validation with and without it. */
export interface TestTimeChoice {
  /** The views its manifest declares (`tta`): the candidates when kept, else none. */
  views: TestTimeView[];
  /** The views tried (testTimeCandidates). */
  candidates: TestTimeView[];
  plain: SplitScore;
  averaged: SplitScore;
}

/**
 * The test-time views worth trying for a feature head trained on `trainViews` with `channels` input
 * channels: the mirror, and the gray view when the head trained on it (a one-channel image is its own
 * gray view). From the 5-fold cross-validation of bench/style-shift-robust.ts (multi-layer features,
 * source style, clip art / stamps): a head trained on the image alone scored 0.747 / 0.783 plain,
 * 0.757 / 0.802 averaged with the mirror, 0.749 / 0.799 with mirror + gray; one trained on image +
 * mirror + gray scored 0.756 / 0.802 plain, 0.773 / 0.827 with the mirror, 0.780 / 0.827 with both.
 */
export function testTimeCandidates(channels: number, trainViews: readonly FeatureView[]): TestTimeView[] {
  return TEST_TIME_VIEWS.filter(
    (v) => (v === 'mirror' || trainViews.includes(v)) && (v !== 'gray' || channels === 3),
  );
}

const scoreOf = (p: Predictions): SplitScore => ({
  accuracy: accuracy(p.labels, argmaxRows(p)),
  logLoss: logLoss(p),
});

/**
 * The rule, on the validation split only: test-time averaging is kept when its accuracy is higher
 * than the image's alone, or equal with a strictly lower log loss; otherwise (worse, or a tie on
 * both) the plain model, which costs one pass per image instead of one per view. On the
 * cross-validated heads of bench/style-shift-robust.ts the averaging was 1-2.5 points better on both
 * tasks' source style (testTimeCandidates); a few dozen validation images often tie on accuracy, and
 * the log loss then decides.
 */
export function chooseTestTimeViews(
  candidates: TestTimeView[],
  plain: Predictions,
  averaged: Predictions,
): TestTimeChoice {
  const p = scoreOf(plain);
  const a = scoreOf(averaged);
  const keep =
    candidates.length > 0 &&
    (a.accuracy > p.accuracy || (a.accuracy === p.accuracy && a.logLoss < p.logLoss));
  return { views: keep ? [...candidates] : [], candidates: [...candidates], plain: p, averaged: a };
}
