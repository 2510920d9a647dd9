import type { ClassStats } from '../stats/report-types';
import type { Split } from '../split/split-types';
import type { ImageShardIndex } from './shard-index';

/** What a derived (cleaned) version changes: samples by id (the sha256 `hash` of the index). */
export interface IndexEdits {
  /** Samples left out of the new version. */
  remove: ReadonlySet<string>;
  /** New class name per sample (must be one of the index's labels). */
  relabel: ReadonlyMap<string, string>;
}

export class IndexEditError extends Error {
  constructor(
    message: string,
    readonly field: 'remove' | 'relabel',
  ) {
    super(message);
    this.name = 'IndexEditError';
  }
}

/**
 * A new version's index = `parent` with samples removed or relabeled. Shards are referenced, not
 * copied (versions are immutable); labels, splits and everything else stay. Every id must name a
 * sample of the parent and every new label one of its classes ({@link IndexEditError} otherwise);
 * an id both removed and relabeled is an error too.
 */
export function deriveIndex(
  parent: ImageShardIndex,
  edits: IndexEdits,
): { index: ImageShardIndex; removed: number; relabeled: number } {
  const known = new Set(parent.samples.map((s) => s.hash));
  for (const id of edits.remove)
    if (!known.has(id)) throw new IndexEditError(`sample ${id} is not in the dataset version`, 'remove');
  for (const [id, label] of edits.relabel) {
    if (!known.has(id)) throw new IndexEditError(`sample ${id} is not in the dataset version`, 'relabel');
    if (edits.remove.has(id))
      throw new IndexEditError(`sample ${id} is both removed and relabeled`, 'relabel');
    if (!parent.labels.includes(label))
      throw new IndexEditError(
        `label "${label.slice(0, 100)}" is not a class of the dataset version (${parent.labels.slice(0, 20).join(', ')})`,
        'relabel',
      );
  }
  let removed = 0;
  let relabeled = 0;
  const samples = parent.samples.flatMap((s) => {
    if (edits.remove.has(s.hash)) {
      removed++;
      return [];
    }
    const to = edits.relabel.get(s.hash);
    if (to === undefined) return [s];
    const label = parent.labels.indexOf(to);
    if (label === s.label) return [s];
    relabeled++;
    return [{ ...s, label }];
  });
  return { index: { ...parent, samples }, removed, relabeled };
}

/** Class and split counts of an image index, in the report's shape. */
export function countClasses(index: ImageShardIndex): {
  classes: ClassStats[];
  splits: Record<Split, number>;
} {
  const splits: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  const classes: ClassStats[] = index.labels.map((name, i) => ({
    name,
    index: i,
    count: 0,
    splits: { train: 0, validation: 0, test: 0 },
  }));
  for (const s of index.samples) {
    if (s.label === null) continue;
    const c = classes[s.label];
    c.count++;
    c.splits[s.split]++;
    splits[s.split]++;
  }
  return { classes, splits };
}
