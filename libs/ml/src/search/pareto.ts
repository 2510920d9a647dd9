/**
 * The Pareto front of `items` under objectives to MAXIMIZE (negate one to minimize it): the items no
 * other item is at least as good as on every objective and strictly better on one. Items with a
 * non-finite objective are left out. Order: by the first objective, best first, then input order.
 */
export function paretoFront<T>(items: readonly T[], objectives: ReadonlyArray<(t: T) => number>): T[] {
  const scored = items
    .map((item, at) => ({ item, at, v: objectives.map((f) => f(item)) }))
    .filter((s) => s.v.every((x) => Number.isFinite(x)));
  const dominates = (a: number[], b: number[]) => a.every((x, k) => x >= b[k]) && a.some((x, k) => x > b[k]);
  return scored
    .filter((s) => !scored.some((o) => o !== s && dominates(o.v, s.v)))
    .sort((a, b) => b.v[0] - a.v[0] || a.at - b.at)
    .map((s) => s.item);
}

/**
 * The item of highest `score` among those whose `cost` is at most `limit` (ties: the cheaper, then
 * the earlier); undefined when none is within it. Non-finite costs or scores are left out.
 */
export function bestWithin<T>(
  items: readonly T[],
  cost: (t: T) => number,
  score: (t: T) => number,
  limit: number,
): T | undefined {
  let best: T | undefined;
  for (const t of items) {
    const c = cost(t);
    const s = score(t);
    if (!Number.isFinite(c) || !Number.isFinite(s) || c > limit) continue;
    if (best === undefined || s > score(best) || (s === score(best) && c < cost(best))) best = t;
  }
  return best;
}
