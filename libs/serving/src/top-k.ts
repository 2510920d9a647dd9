import type { ImageClassification } from '@modelsmith/ml';

/** The best `topK` classes of one probability row, best first (ties keep class order). */
export function rankRow(
  row: ArrayLike<number>,
  classNames: readonly string[],
  topK: number,
): ImageClassification {
  const order = Array.from({ length: classNames.length }, (_, i) => i).sort(
    (a, b) => row[b] - row[a] || a - b,
  );
  const top = order
    .slice(0, Math.max(1, Math.min(topK, classNames.length)))
    .map((i) => ({ label: classNames[i], score: row[i] }));
  return { label: top[0].label, score: top[0].score, top };
}
