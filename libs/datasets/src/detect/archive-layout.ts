import type { ArchiveListingEntry } from '../archive/archive-types';
import { isJunkPath } from '../archive/path-safety';

export interface ArchiveLayout {
  /** A common top folder to strip (`dataset/`), or ''. */
  root: string;
  /** Path of `labels.csv`, when present at the root. */
  labelsCsv: string | null;
}

const LABELS_CSV = /^labels\.csv$/i;

/** Finds the dataset root (one wrapping folder is allowed) and a root `labels.csv`. */
export function archiveLayout(entries: readonly ArchiveListingEntry[]): ArchiveLayout {
  const files = entries.filter((e) => e.kind === 'file' && !isJunkPath(e.path)).map((e) => e.path.split('/'));
  let root: string[] = [];
  for (;;) {
    const depth = root.length;
    const csv = files.find((p) => p.length === depth + 1 && LABELS_CSV.test(p[depth]));
    if (csv) return { root: root.map((s) => `${s}/`).join(''), labelsCsv: csv.join('/') };
    const first = files[0]?.[depth];
    if (first === undefined || !files.every((p) => p.length >= depth + 2 && p[depth] === first)) break;
    const csvBelow = files.some((p) => p.length === depth + 2 && LABELS_CSV.test(p[depth + 1]));
    if (!csvBelow && !files.every((p) => p.length >= depth + 3)) break;
    root = [...root, first];
  }
  return { root: root.map((s) => `${s}/`).join(''), labelsCsv: null };
}
