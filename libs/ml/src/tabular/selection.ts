/**
 * How the tabular model is chosen among candidates (trials): the one-standard-error rule,
 * preferring the linear model.
 *
 * A candidate's validation loss is a noisy estimate, and a GBDT's is optimistic as well: early
 * stopping keeps its best iteration on those same rows, so its loss is a minimum over up to ~100
 * iteration counts (and a job compares several GBDT settings). On small validation splits (57 rows
 * on breast_cancer) that picks trees whose edge is noise. The rule: take the candidate with the
 * lowest validation loss; if a linear candidate's loss is within one standard error of it (the
 * standard error of the best candidate's mean per-row loss on the validation rows), the linear
 * candidate is the model instead (Breiman et al. 1984; Hastie, Tibshirani & Friedman, "The
 * Elements of Statistical Learning", 7.10). With many validation rows the standard error is small
 * and the rule is the plain minimum.
 */

/** The rule as a tabular job's report states it (`selection.statement`). */
export const ONE_STANDARD_ERROR_RULE =
  'the trial with the lowest validation loss, unless the linear trial is within one standard error ' +
  "of that loss (the best trial's standard error over the validation rows): then the linear trial";

export interface SelectionEntry {
  family: 'linear' | 'gbdt';
  /** Validation loss (log loss, or RMSE), lower is better. */
  loss: number;
  /** Standard error of `loss` over the validation rows ({@link lossStandardError}). */
  lossSE: number;
}

/**
 * The index of the chosen entry (-1 when none has a finite loss): the lowest loss (ties: the
 * earlier), unless a linear entry's loss is at most that plus the best entry's standard error;
 * then the linear entry with the lowest loss (ties: the earlier).
 */
export function oneStandardErrorChoice(entries: readonly SelectionEntry[]): number {
  let best = -1;
  entries.forEach((e, i) => {
    if (Number.isFinite(e.loss) && (best < 0 || e.loss < entries[best].loss)) best = i;
  });
  if (best < 0 || entries[best].family === 'linear') return best;
  const se = entries[best].lossSE;
  const limit = entries[best].loss + (Number.isFinite(se) && se > 0 ? se : 0);
  let linear = -1;
  entries.forEach((e, i) => {
    if (e.family === 'linear' && Number.isFinite(e.loss) && e.loss <= limit)
      if (linear < 0 || e.loss < entries[linear].loss) linear = i;
  });
  return linear >= 0 ? linear : best;
}

/**
 * Standard error of a validation loss from its per-row terms: for a mean (log loss) the sample
 * standard deviation over sqrt(n); for an RMSE (`terms` = squared errors) the delta method,
 * SE(mean) / (2 RMSE). 0 with fewer than 2 rows.
 */
export function lossStandardError(terms: ArrayLike<number>, kind: 'mean' | 'rmse'): number {
  const n = terms.length;
  if (n < 2) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += terms[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (terms[i] - mean) ** 2;
  const se = Math.sqrt(ss / (n - 1) / n);
  if (kind === 'mean') return se;
  const rmse = Math.sqrt(mean);
  return rmse > 0 ? se / (2 * rmse) : 0;
}
