import { mulberry32, shuffleInPlace } from '../util/prng';
import type { Split, SplitRatios } from './split-types';

export interface SplitItem {
  /** Stratum (class index, or -1 for unstratified). */
  stratum: number;
  /** A stable sort key, e.g. the content hash, so the result does not depend on archive order. */
  key: string;
  /** A split given by the user; kept as is. */
  fixed: Split | null;
}

export interface SplitResult {
  splits: Split[];
  /** Strata too small to split (fewer than 3 unassigned items): all their items went to train. */
  tooSmall: number[];
}

/** Numbers of validation and test items for a stratum of n items. */
export function splitQuota(n: number, ratios: SplitRatios): { validation: number; test: number } {
  if (n < 3) return { validation: 0, test: 0 };
  const total = ratios.train + ratios.validation + ratios.test;
  const want = (r: number): number => (r > 0 ? Math.max(1, Math.round((n * r) / total)) : 0);
  let validation = want(ratios.validation);
  let test = want(ratios.test);
  while (n - validation - test < 1 && (validation > 0 || test > 0)) {
    if (validation >= test && validation > 0) validation -= 1;
    else test -= 1;
  }
  return { validation, test };
}

/**
 * Stratified train/validation/test assignment with a fixed seed. Items with a user split keep it;
 * the others are shuffled per stratum (after sorting by key) and cut by the ratios. A stratum with
 * fewer than 3 items cannot be split and goes to train.
 */
export function stratifiedSplit(items: readonly SplitItem[], ratios: SplitRatios, seed: number): SplitResult {
  const splits: Split[] = items.map((item) => item.fixed ?? 'train');
  const byStratum = new Map<number, number[]>();
  items.forEach((item, i) => {
    if (item.fixed !== null) return;
    const list = byStratum.get(item.stratum) ?? [];
    list.push(i);
    byStratum.set(item.stratum, list);
  });
  const tooSmall: number[] = [];
  const strata = [...byStratum.keys()].sort((a, b) => a - b);
  for (const stratum of strata) {
    const members = byStratum.get(stratum)!;
    members.sort((a, b) => (items[a].key < items[b].key ? -1 : items[a].key > items[b].key ? 1 : a - b));
    shuffleInPlace(members, mulberry32((seed ^ Math.imul(stratum + 1, 0x9e3779b1)) >>> 0));
    const { validation, test } = splitQuota(members.length, ratios);
    if (validation === 0 && test === 0 && (ratios.validation > 0 || ratios.test > 0)) tooSmall.push(stratum);
    members.forEach((idx, pos) => {
      splits[idx] = pos < validation ? 'validation' : pos < validation + test ? 'test' : 'train';
    });
  }
  return { splits, tooSmall };
}
