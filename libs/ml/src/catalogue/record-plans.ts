import type { TabularModelChoice, TextModelChoice, TrainingMode } from '@modelsmith/contracts';

/** The candidates a text or tabular TRAIN job fits, by name, with the epochs each runs at most. */
export interface RecordCandidatePlan {
  name: string;
  /** text: 'linear' | 'cnn'; tabular: the candidate's name. */
  kind: string;
  epochs: number;
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
