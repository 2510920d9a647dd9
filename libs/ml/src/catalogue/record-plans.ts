import type { TabularModelChoice, TextModelChoice, TrainingMode } from '@modelsmith/contracts';

/** The candidates a text or tabular TRAIN job fits, by name, with the epochs each runs at most. */
export interface RecordCandidatePlan {
  name: string;
  /** text: 'linear' | 'cnn'; tabular: the candidate's name. */
  kind: string;
  epochs: number;
  /**
   * The measured candidate whose speed (and early-stopping record) prices this one: sampled search
   * configurations are not measured under their own names (their settings change with the seed).
   * Absent: `name`.
   */
  measuredAs?: string;
}

/** Names of libs/ml text's DEFAULT_TEXT_CANDIDATES (in order) and of TEXT_CNN_CANDIDATE (text-recipe spec checks them). */
export const TEXT_LINEAR_CANDIDATE_NAMES = [
  'words+chars/balanced',
  'words/balanced',
  'words+chars/none',
  'words/none',
] as const;
export const TEXT_CNN_CANDIDATE_NAME = 'cnn/balanced';
export const TEXT_CNN_MAX_EPOCHS = 10;

/** Epochs of a text job per mode when `options.epochs` is not set. */
export function textMaxEpochs(mode: TrainingMode, epochs?: number): number {
  return epochs ?? (mode === 'fast' ? 10 : mode === 'best' ? 40 : 20);
}

/**
 * The text candidates of a mode (apps/worker textRecipe): `fast` the two balanced linear ones; the
 * others the four linear ones and the CNN; `textModel` narrows the families.
 */
export function textCandidatePlan(
  mode: TrainingMode,
  epochs?: number,
  textModel: TextModelChoice = 'auto',
): RecordCandidatePlan[] {
  const max = textMaxEpochs(mode, epochs);
  const linear = TEXT_LINEAR_CANDIDATE_NAMES.filter((n) => mode !== 'fast' || n.endsWith('/balanced')).map(
    (name) => ({ name, kind: 'linear', epochs: max }),
  );
  const cnn = { name: TEXT_CNN_CANDIDATE_NAME, kind: 'cnn', epochs: Math.min(max, TEXT_CNN_MAX_EPOCHS) };
  if (textModel === 'cnn') return [cnn];
  if (textModel === 'linear' || mode === 'fast') return linear;
  return [...linear, cnn];
}

export type TabularCandidateName = 'linear' | 'gbdt' | 'gbdt_small';

/** The tabular candidates of a model choice and mode, in the order they are fitted. */
export function tabularCandidates(choice: TabularModelChoice, mode: string): TabularCandidateName[] {
  switch (choice) {
    case 'gbdt':
      return mode === 'fast' ? ['gbdt'] : ['gbdt', 'gbdt_small'];
    case 'linear':
      return ['linear'];
    case 'auto':
      return mode === 'fast' ? ['linear', 'gbdt'] : ['linear', 'gbdt', 'gbdt_small'];
  }
}

/** Linear configurations a text job samples after the default candidates in mode 'auto' (apps/worker textSearchPlan). */
export const TEXT_SEARCH_EXTRA_TRIALS = 3;

/** GBDT configurations a tabular job samples after its candidates in mode 'auto' (apps/worker tabularSearchPlan). */
export const TABULAR_SEARCH_EXTRA_TRIALS = 4;

/**
 * The sampled GBDT configurations run only when the validation split has at least this many rows:
 * on 15-85 validation rows they never raised the test score of the model chosen on validation
 * (bench/results/tabular-search.json) and cost more than the candidates (docs/tabular.md).
 */
export const TABULAR_SEARCH_MIN_VALIDATION_ROWS = 100;

/**
 * Every trial a text job runs, in order (apps/worker textSearchPlan): {@link textCandidatePlan}'s
 * candidates, with mode 'auto' (unless only the CNN is asked for) TEXT_SEARCH_EXTRA_TRIALS sampled
 * linear configurations after the default linear ones and before the CNN, each priced as the first
 * default linear candidate (words and characters, the costlier feature set). `maxTrials` keeps the first ones.
 */
export function textTrialPlan(
  mode: TrainingMode,
  epochs?: number,
  textModel: TextModelChoice = 'auto',
  maxTrials?: number,
): RecordCandidatePlan[] {
  const plan = textCandidatePlan(mode, epochs, textModel);
  const sampled =
    mode === 'auto' && textModel !== 'cnn'
      ? Array.from({ length: TEXT_SEARCH_EXTRA_TRIALS }, (_, k) => ({
          name: `sampled-${k + 1}`,
          kind: 'linear',
          epochs: textMaxEpochs(mode, epochs),
          measuredAs: TEXT_LINEAR_CANDIDATE_NAMES[0],
        }))
      : [];
  const all = [...plan.filter((c) => c.kind !== 'cnn'), ...sampled, ...plan.filter((c) => c.kind === 'cnn')];
  return all.slice(0, maxTrials ?? all.length);
}

/**
 * Every trial a tabular job runs, in order (apps/worker tabularSearchPlan): the model choice's
 * candidates (`fixed`, as the caller filtered them), then in mode 'auto' (unless only the linear model
 * is asked for) TABULAR_SEARCH_EXTRA_TRIALS sampled GBDT configurations, each priced as `gbdt`;
 * none when `validationRows` is known and below TABULAR_SEARCH_MIN_VALIDATION_ROWS.
 * `maxTrials` keeps the first ones.
 */
export function tabularTrialPlan(
  choice: TabularModelChoice,
  mode: string,
  fixed: readonly TabularCandidateName[] = tabularCandidates(choice, mode),
  maxTrials?: number,
  validationRows?: number,
): RecordCandidatePlan[] {
  const all: RecordCandidatePlan[] = fixed.map((name) => ({ name, kind: name, epochs: 1 }));
  const sampled = validationRows === undefined || validationRows >= TABULAR_SEARCH_MIN_VALIDATION_ROWS;
  if (mode === 'auto' && choice !== 'linear' && sampled)
    for (let k = 0; k < TABULAR_SEARCH_EXTRA_TRIALS; k++)
      all.push({ name: `gbdt_search_${k + 1}`, kind: 'gbdt', epochs: 1, measuredAs: 'gbdt' });
  return all.slice(0, maxTrials ?? all.length);
}
