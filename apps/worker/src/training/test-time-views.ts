import {
  accuracy,
  argmaxRows,
  logLoss,
  TEST_TIME_VIEWS,
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
  /** The views tried (TEST_TIME_VIEWS; no `gray` for a one-channel model, whose gray view is the image). */
  candidates: TestTimeView[];
  plain: SplitScore;
  averaged: SplitScore;
}

/** The test-time views worth trying for a model with `channels` input channels. */
export function testTimeCandidates(channels: number): TestTimeView[] {
  return TEST_TIME_VIEWS.filter((v) => v !== 'gray' || channels === 3);
}

const scoreOf = (p: Predictions): SplitScore => ({
  accuracy: accuracy(p.labels, argmaxRows(p)),
  logLoss: logLoss(p),
});

/**
 * The rule, on the validation split only: test-time averaging is kept when its accuracy is higher
 * than the image's alone, or equal with a strictly lower log loss; otherwise (worse, or a tie on
 * both) the plain model, which costs one pass per image instead of one per view. On the
 * cross-validated heads of bench/style-shift-robust.ts averaging over image + mirror + gray was
 * 2.4 points better on both tasks' source style (docs/training.md); a few dozen validation images
 * often tie on accuracy, and the log loss then decides.
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
