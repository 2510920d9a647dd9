/**
 * The tuning/report summary shared by bench/mislabel-detect.ts and bench/mislabel-rotate.ts: per role
 * ('tune', 'report'), the mean of each AUROC over its settings and, where rows carry accuracies
 * (`acc`: clean, noisy and one per cleaning arm), each arm's fraction of the noise's mean cost it
 * recovers (mean gain over noisy / mean of clean - noisy).
 */
const r4 = (x: number) => Math.round(x * 10000) / 10000;
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

export function summarizeRoles(
  rows: Record<string, unknown>[],
  o: { costPoints?: boolean } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const role of ['tune', 'report']) {
    const rs = rows.filter((r) => r.role === role);
    if (!rs.length) continue;
    const au: Record<string, number> = {};
    for (const k of Object.keys(rs[0].auroc as object))
      au[k] = r4(mean(rs.map((r) => (r.auroc as Record<string, number>)[k])));
    const rec: Record<string, number> = {};
    if (rs[0].acc) {
      const A = (r: Record<string, unknown>) => r.acc as Record<string, number>;
      const cost = mean(rs.map((r) => A(r).clean - A(r).noisy));
      for (const k of Object.keys(A(rs[0])))
        if (k !== 'clean' && k !== 'noisy') rec[k] = r4(mean(rs.map((r) => A(r)[k] - A(r).noisy)) / cost);
      // "Mean cost points": the noise's mean accuracy cost in percentage points.
      if (o.costPoints) rec.meanCostPoints = r4(100 * cost);
    }
    out[role] = { settings: rs.length, auroc: au, recovered: rec };
  }
  return out;
}
