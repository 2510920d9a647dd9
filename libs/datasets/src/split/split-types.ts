export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export interface SplitRatios {
  train: number;
  validation: number;
  test: number;
}

export const DEFAULT_SPLIT_RATIOS: SplitRatios = { train: 0.8, validation: 0.1, test: 0.1 };
export const DEFAULT_SPLIT_SEED = 42;

/** Parses a user split value (`train`, `val`, `validation`, `valid`, `dev`, `test`); null if unknown. */
export function parseSplit(raw: string): Split | null {
  switch (raw.trim().toLowerCase()) {
    case 'train':
    case 'training':
      return 'train';
    case 'val':
    case 'valid':
    case 'validation':
    case 'dev':
      return 'validation';
    case 'test':
    case 'testing':
      return 'test';
    default:
      return null;
  }
}

export function emptySplitCounts(): Record<Split, number> {
  return { train: 0, validation: 0, test: 0 };
}
