import type { IndexedSample } from '../shards/shard-index';
import type { ShardPosition } from '../shards/shard-writer';
import { stratifiedSplit } from '../split/stratified-split';
import { emptySplitCounts, type Split, type SplitRatios } from '../split/split-types';
import type {
  ClassStats,
  DuplicateGroup,
  LabelConflict,
  SkipReason,
  SkippedItem,
} from '../stats/report-types';
import { increment } from '../stats/summary';

/**
 * The stratified split over groups (the first member's class is the group's stratum, the group key
 * its sort key), each member taking its group's split. Without repeated groups this is the
 * per-sample split.
 */
function groupedSplit(
  usable: readonly Pending[],
  labelIndex: ReadonlyMap<string, number>,
  ratios: SplitRatios,
  seed: number,
): Split[] {
  const groupOf = new Map<string, number>();
  const members: number[] = [];
  const items: { stratum: number; key: string; fixed: Split | null }[] = [];
  usable.forEach((p, i) => {
    // A user split is per sample: such a sample is its own group.
    const key = p.fixed === null ? p.group : `\u0000${i}`;
    let g = groupOf.get(key);
    if (g === undefined) {
      g = items.length;
      groupOf.set(key, g);
      items.push({
        stratum: p.label === null ? -1 : labelIndex.get(p.label)!,
        key: p.fixed === null ? p.group : p.hash,
        fixed: p.fixed,
      });
    }
    members.push(g);
  });
  const { splits } = stratifiedSplit(items, ratios, seed);
  return members.map((g) => splits[g]);
}

interface Pending {
  pos: ShardPosition;
  label: string | null;
  hash: string;
  path: string;
  fixed: Split | null;
  /** Rows with the same group go to the same split (tabular: the feature columns' hash). */
  group: string;
}

interface FirstCopy {
  label: string | null;
  path: string;
}

export type Admission = 'new' | 'duplicate' | 'conflict';

export interface CollectedDataset {
  labels: string[];
  samples: IndexedSample[];
  classes: ClassStats[];
  splits: Record<Split, number>;
  /** Classes that were seen (folder, row) but ended with no usable sample. */
  emptyClasses: string[];
  /** Classes too small to split (everything went to train). */
  unsplitClasses: string[];
  method: 'seeded' | 'column' | 'mixed';
}

/**
 * Tracks samples as they stream in: exact duplicates (by content hash), label conflicts (same
 * content under two labels: every copy is excluded), skips with reasons; then assigns splits.
 *
 * Tabular rows go through {@link observe} instead of {@link admit}: every row is kept, copies are
 * only counted (same features and target: a duplicate; same features, another target: a conflict),
 * and rows with the same features share one split.
 */
export class SampleCollector {
  private readonly pending: Pending[] = [];
  private readonly firstByHash = new Map<string, FirstCopy>();
  /** observe(): labels and first paths of the feature groups seen with more than one label. */
  private readonly observedLabels = new Map<string, Map<string, string>>();
  private keepsCopies = false;
  private readonly dupGroups = new Map<string, DuplicateGroup>();
  private readonly conflicts = new Map<string, LabelConflict>();
  private readonly seenLabels = new Set<string>();
  readonly skipped: SkippedItem[] = [];
  readonly skippedByReason: Partial<Record<SkipReason, number>> = {};
  private skippedTotal = 0;
  truncated = false;

  constructor(private readonly maxListed: number) {}

  get skippedCount(): number {
    return this.skippedTotal;
  }

  /** Records that a label exists (a class folder, a labels.csv row) even if none of its files survive. */
  sawLabel(label: string): void {
    this.seenLabels.add(label);
  }

  skip(item: SkippedItem): void {
    this.skippedTotal += 1;
    increment(this.skippedByReason, item.reason);
    if (this.skipped.length < this.maxListed) this.skipped.push(item);
    else this.truncated = true;
  }

  /** Decides, before any decoding, whether content with this hash is new, a duplicate or a conflict. */
  admit(hash: string, label: string | null, path: string): Admission {
    if (label !== null) this.seenLabels.add(label);
    const first = this.firstByHash.get(hash);
    if (!first) {
      this.firstByHash.set(hash, { label, path });
      return 'new';
    }
    const conflict = this.conflicts.get(hash);
    if (conflict || first.label !== label) {
      const entry = conflict ?? { hash, items: [{ path: first.path, label: first.label ?? '' }] };
      entry.items.push({ path, label: label ?? '' });
      if (!conflict) this.addListed(this.conflicts, hash, entry);
      this.skip({
        reason: 'label_conflict',
        path,
        message: `same content as "${first.path}" but labeled "${label ?? ''}" instead of "${first.label ?? ''}"`,
      });
      return 'conflict';
    }
    const group = this.dupGroups.get(hash) ?? { hash, kept: first.path, duplicates: [] };
    if (group.duplicates.length < this.maxListed) group.duplicates.push(path);
    if (!this.dupGroups.has(hash)) this.addListed(this.dupGroups, hash, group);
    this.duplicateCount += 1;
    this.skip({ reason: 'duplicate', path, message: `exact duplicate of "${first.path}"` });
    return 'duplicate';
  }

  duplicateCount = 0;

  /**
   * Counts a kept row's copies (tabular): `group` identifies its feature values, `label` its target.
   * Nothing is skipped: a repeated row is a `duplicate`, the same features under another target a
   * label conflict, both informational.
   */
  observe(group: string, label: string, path: string): void {
    this.keepsCopies = true;
    this.seenLabels.add(label);
    const first = this.firstByHash.get(group);
    if (!first) {
      this.firstByHash.set(group, { label, path });
      return;
    }
    let labels = this.observedLabels.get(group);
    if (!labels && first.label !== label) {
      labels = new Map([[first.label ?? '', first.path]]);
      this.observedLabels.set(group, labels);
    }
    const firstWithLabel = labels ? labels.get(label) : first.path;
    if (labels && firstWithLabel === undefined) {
      labels.set(label, path);
      const entry = this.conflicts.get(group) ?? {
        hash: group,
        items: [{ path: first.path, label: first.label ?? '' }],
      };
      if (entry.items.length < this.maxListed) entry.items.push({ path, label });
      if (!this.conflicts.has(group)) this.addListed(this.conflicts, group, entry);
      return;
    }
    const key = `${group}\u0000${label}`;
    const dup = this.dupGroups.get(key) ?? { hash: group, kept: firstWithLabel!, duplicates: [] };
    if (dup.duplicates.length < this.maxListed) dup.duplicates.push(path);
    if (!this.dupGroups.has(key)) this.addListed(this.dupGroups, key, dup);
    this.duplicateCount += 1;
  }

  private addListed<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size < this.maxListed) map.set(key, value);
    else this.truncated = true;
  }

  /** A kept sample; `group` (default: its hash) keeps rows with equal features in one split. */
  add(
    pos: ShardPosition,
    label: string | null,
    hash: string,
    path: string,
    fixed: Split | null,
    group: string = hash,
  ): void {
    this.pending.push({ pos, label, hash, path, fixed, group });
  }

  duplicates(): DuplicateGroup[] {
    return [...this.dupGroups.values()];
  }

  labelConflicts(): LabelConflict[] {
    return [...this.conflicts.values()];
  }

  conflictCount(): number {
    return this.keepsCopies ? this.observedLabels.size : this.conflicts.size;
  }

  /**
   * Drops conflicted samples (not observed tabular rows: those are all kept), numbers the classes
   * (sorted by name) and assigns the splits, one per group.
   */
  finalize(ratios: SplitRatios, seed: number, classification: boolean): CollectedDataset {
    const usable = this.pending.filter((p) => {
      if (this.keepsCopies || !this.conflicts.has(p.hash)) return true;
      this.skip({
        reason: 'label_conflict',
        path: p.path,
        message: `the same content appears under several labels; all copies excluded`,
      });
      return false;
    });
    if (!classification) for (const p of usable) p.label = null;
    const counts = new Map<string, number>();
    for (const p of usable) if (p.label !== null) counts.set(p.label, (counts.get(p.label) ?? 0) + 1);
    const labels = [...counts.keys()].sort();
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const splits = groupedSplit(usable, labelIndex, ratios, seed);
    const samples: IndexedSample[] = usable.map((p, i) => ({
      shard: p.pos.shard,
      offset: p.pos.offset,
      label: p.label === null ? null : labelIndex.get(p.label)!,
      split: splits[i],
      hash: p.hash,
      path: p.path,
    }));
    const classes: ClassStats[] = labels.map((name, index) => ({
      name,
      index,
      count: counts.get(name)!,
      splits: emptySplitCounts(),
    }));
    const totals = emptySplitCounts();
    for (const s of samples) {
      totals[s.split] += 1;
      if (s.label !== null) classes[s.label].splits[s.split] += 1;
    }
    const fixedCount = usable.filter((p) => p.fixed !== null).length;
    const method = fixedCount === 0 ? 'seeded' : fixedCount === usable.length ? 'column' : 'mixed';
    return {
      labels,
      samples,
      classes,
      splits: totals,
      emptyClasses: classification ? [...this.seenLabels].filter((l) => !counts.has(l)).sort() : [],
      // Classes with nothing held out are never evaluated, whatever the reason (too small, user splits).
      unsplitClasses:
        classification && (ratios.validation > 0 || ratios.test > 0)
          ? classes.filter((c) => c.splits.validation + c.splits.test === 0).map((c) => c.name)
          : [],
      method,
    };
  }
}
