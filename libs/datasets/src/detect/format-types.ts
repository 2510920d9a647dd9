export type Container = 'zip' | 'tar.gz' | 'csv' | 'jsonl';

/**
 * - `image-folders`: an archive of `<label>/<file>` (optionally under one top folder)
 * - `image-labels-csv`: an archive with `labels.csv` (path,label[,split]) next to the images
 * - `text-csv` / `text-jsonl`: text classification rows (text,label[,split])
 * - `tabular-csv`: a CSV with a named target column
 */
export type DatasetFormat = 'image-folders' | 'image-labels-csv' | 'text-csv' | 'text-jsonl' | 'tabular-csv';

export const DATASET_FORMATS: readonly DatasetFormat[] = [
  'image-folders',
  'image-labels-csv',
  'text-csv',
  'text-jsonl',
  'tabular-csv',
];

export function containerKinds(format: DatasetFormat): readonly Container[] {
  switch (format) {
    case 'image-folders':
    case 'image-labels-csv':
      return ['zip', 'tar.gz'];
    case 'text-csv':
    case 'tabular-csv':
      return ['csv'];
    case 'text-jsonl':
      return ['jsonl'];
  }
}
