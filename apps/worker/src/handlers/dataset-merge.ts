import {
  countClasses,
  type DatasetReport,
  type ImageShardIndex,
  type IndexedSample,
} from '@modelsmith/datasets';

export class IncompatibleParentError extends Error {
  readonly code = 'INCOMPATIBLE_PARENT';
}

export interface MergeSummary {
  parentVersionId: string;
  parentSamples: number;
  added: number;
  /** New files identical to (same bytes, same label) a sample of the parent: dropped. */
  duplicatesOfParent: number;
  /** New files identical to a parent sample but labeled differently: excluded. */
  conflictsWithParent: number;
}

/**
 * A new version = its parent's samples + the newly ingested ones. The parent's shards are referenced,
 * not copied (versions are immutable); labels are the union (parent's first, indices kept); new
 * samples keep the split the ingestion gave them; files already in the parent are not added twice.
 */
export function mergeWithParent(
  parent: ImageShardIndex,
  child: ImageShardIndex,
  parentVersionId: string,
): { index: ImageShardIndex; summary: MergeSummary } {
  if (parent.height !== child.height || parent.width !== child.width || parent.channels !== child.channels) {
    throw new IncompatibleParentError(
      `the parent version stores ${parent.width}x${parent.height}x${parent.channels} images but this upload was ingested at ${child.width}x${child.height}x${child.channels}; use the same imageSize and channels`,
    );
  }
  const labels = [...parent.labels];
  const labelMap = child.labels.map((name) => {
    const at = labels.indexOf(name);
    if (at >= 0) return at;
    labels.push(name);
    return labels.length - 1;
  });
  const parentByHash = new Map(parent.samples.map((s) => [s.hash, s]));
  let duplicatesOfParent = 0;
  let conflictsWithParent = 0;
  const added: IndexedSample[] = [];
  for (const s of child.samples) {
    const label = s.label === null ? null : labelMap[s.label];
    const seen = parentByHash.get(s.hash);
    if (seen) {
      if (seen.label === label) duplicatesOfParent++;
      else conflictsWithParent++;
      continue;
    }
    added.push({ ...s, label, shard: s.shard + parent.shards.length });
  }
  return {
    index: {
      ...child,
      labels,
      shards: [...parent.shards, ...child.shards],
      samples: [...parent.samples, ...added],
    },
    summary: {
      parentVersionId,
      parentSamples: parent.samples.length,
      added: added.length,
      duplicatesOfParent,
      conflictsWithParent,
    },
  };
}

export { countClasses };

/** The child's report with counts of the merged version and the merge summary. */
export function mergedReport(
  report: DatasetReport,
  index: ImageShardIndex,
  summary: MergeSummary,
): DatasetReport & { merge: MergeSummary } {
  const { classes, splits } = countClasses(index);
  const counts = classes.map((c) => c.count).filter((n) => n > 0);
  return {
    ...report,
    classes,
    splits,
    totals: { ...report.totals, samples: index.samples.length },
    imbalanceRatio: counts.length ? Math.max(...counts) / Math.min(...counts) : null,
    merge: summary,
  };
}
