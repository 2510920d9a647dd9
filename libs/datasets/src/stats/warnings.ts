import type { CollectedDataset } from '../ingest/sample-collector';
import type { DatasetWarning } from './report-types';

export interface WarningInputs {
  collected: CollectedDataset;
  entries: number;
  skipped: number;
  duplicates: number;
  conflicts: number;
  /** Tabular: duplicates and conflicts were counted, not dropped. */
  copiesKept?: boolean;
  sanitizedLabels: string[];
  minSamplesPerClass: number;
  noun: string;
}

const IMBALANCE_WARN = 10;

/** Warnings every classification dataset can get, with stable codes. */
export function commonWarnings(w: WarningInputs): DatasetWarning[] {
  const out: DatasetWarning[] = [];
  for (const c of w.collected.classes) {
    if (c.count < w.minSamplesPerClass) {
      out.push({
        code: 'class_too_small',
        subject: c.name,
        message: `class \`${c.name}\` has ${c.count} ${w.noun}${c.count === 1 ? '' : 's'}; at least ${w.minSamplesPerClass} recommended`,
      });
    }
  }
  for (const name of w.collected.unsplitClasses) {
    out.push({
      code: 'class_not_split',
      subject: name,
      message: `class \`${name}\` has no validation or test ${w.noun}s (too small to split), so it will not be evaluated`,
    });
  }
  for (const name of w.collected.emptyClasses) {
    out.push({
      code: 'empty_class',
      subject: name,
      message: `class \`${name}\` has no usable ${w.noun}s and was left out`,
    });
  }
  const ratio = imbalanceRatio(w.collected);
  if (ratio !== null && ratio >= IMBALANCE_WARN) {
    const sorted = [...w.collected.classes].sort((a, b) => b.count - a.count);
    out.push({
      code: 'class_imbalance',
      message: `classes are imbalanced ${ratio.toFixed(1)}:1 (\`${sorted[0].name}\` ${sorted[0].count} vs \`${sorted[sorted.length - 1].name}\` ${sorted[sorted.length - 1].count}); add ${w.noun}s to the small classes`,
    });
  }
  if (w.entries > 0 && w.skipped / w.entries > 0.1) {
    out.push({
      code: 'many_skipped',
      message: `${w.skipped} of ${w.entries} entries were skipped; see the skipped list for reasons`,
    });
  }
  if (w.duplicates > 0)
    out.push({
      code: 'duplicates_found',
      message: w.copiesKept
        ? `${w.duplicates} ${w.noun}s repeat an earlier ${w.noun} exactly; all were kept (equal features share a split)`
        : `${w.duplicates} exact duplicate ${w.noun}s were dropped`,
    });
  if (w.conflicts > 0) {
    out.push({
      code: 'label_conflicts',
      message: w.copiesKept
        ? `${w.conflicts} sets of feature values appear with more than one target value; all their ${w.noun}s were kept (equal features share a split)`
        : `${w.conflicts} ${w.noun}s appear under more than one label; every copy was excluded — fix their labels`,
    });
  }
  for (const label of w.sanitizedLabels) {
    out.push({
      code: 'label_sanitized',
      subject: label,
      message: `label \`${label}\` had path or control characters; they were replaced by \`_\``,
    });
  }
  return out;
}

export function imbalanceRatio(collected: CollectedDataset): number | null {
  if (collected.classes.length === 0) return null;
  const counts = collected.classes.map((c) => c.count);
  const min = Math.min(...counts);
  return min > 0 ? Math.round((Math.max(...counts) / min) * 1000) / 1000 : null;
}
