/**
 * Asynchronous successive halving (ASHA, Li et al. 2020) as a pure decision function. A
 * configuration first trains with the smallest resource (epochs); whenever a worker is free, the
 * best not-yet-promoted configuration in the top 1/eta of its rung is promoted to the next rung
 * (eta times the resource), looking at the highest rung first; if no configuration qualifies, a new
 * one starts at the bottom rung. The state is the list of outcomes, so a search that restarts after
 * a crash decides from what its database recorded.
 */
export interface AshaOptions {
  /** Resource of the bottom rung (e.g. epochs), > 0. */
  minResource: number;
  /** Resource of the top rung; rungs are minResource * eta^k up to this. */
  maxResource: number;
  /** Promotion ratio (>= 2): the top 1/eta of a rung is promoted. */
  eta: number;
}

/** What one training run of a configuration at a rung gave: `score` higher is better; null = failed. */
export interface RungOutcome {
  config: number;
  rung: number;
  score: number | null;
}

export type AshaDecision =
  | { kind: 'promote'; config: number; rung: number; resource: number }
  | { kind: 'new'; rung: 0; resource: number };

/** Resources of the rungs: minResource * eta^k (rounded), the last one maxResource. */
export function rungResources(o: AshaOptions): number[] {
  if (!(o.minResource > 0) || !(o.maxResource >= o.minResource) || !(o.eta >= 2))
    throw new RangeError(
      `ASHA needs 0 < minResource <= maxResource and eta >= 2 (got ${o.minResource}, ${o.maxResource}, ${o.eta})`,
    );
  const out: number[] = [];
  for (let r = o.minResource; r < o.maxResource; r *= o.eta) out.push(Math.round(r));
  out.push(o.maxResource);
  return [...new Set(out)];
}

/**
 * Every move ASHA would accept now, best first: the promotions (highest rung first, then by score)
 * and, last, a new configuration at the bottom rung. A budget-aware caller takes the first it can
 * afford; `asha()` takes the first.
 */
export function ashaCandidates(o: AshaOptions, outcomes: readonly RungOutcome[]): AshaDecision[] {
  const rungs = rungResources(o);
  const out: AshaDecision[] = [];
  for (let k = rungs.length - 2; k >= 0; k--) {
    const inRung = outcomes.filter((t) => t.rung === k);
    const scored = inRung
      .filter((t): t is RungOutcome & { score: number } => t.score !== null)
      .sort((a, b) => b.score - a.score || a.config - b.config);
    const quota = Math.floor(inRung.length / o.eta);
    const promoted = new Set(outcomes.filter((t) => t.rung === k + 1).map((t) => t.config));
    for (const t of scored.slice(0, quota))
      if (!promoted.has(t.config))
        out.push({ kind: 'promote', config: t.config, rung: k + 1, resource: rungs[k + 1] });
  }
  out.push({ kind: 'new', rung: 0, resource: rungs[0] });
  return out;
}

/** ASHA's next move. */
export function asha(o: AshaOptions, outcomes: readonly RungOutcome[]): AshaDecision {
  return ashaCandidates(o, outcomes)[0];
}

/**
 * The best outcome: highest score; on a tie the higher rung (more training), then the earlier
 * configuration. Undefined when nothing succeeded.
 */
export function bestOutcome<T extends RungOutcome>(
  outcomes: readonly T[],
): (T & { score: number }) | undefined {
  let best: (T & { score: number }) | undefined;
  for (const t of outcomes) {
    if (t.score === null) continue;
    if (
      !best ||
      t.score > best.score ||
      (t.score === best.score && (t.rung > best.rung || (t.rung === best.rung && t.config < best.config)))
    )
      best = t as T & { score: number };
  }
  return best;
}
