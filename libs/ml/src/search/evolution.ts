import { mixSeed, Rng } from '../train/rng';
import { mutateArch, randomArch } from './arch';

/** A finished architecture trial as aging evolution sees it: older first; fitness null = failed. */
export interface EvolutionMember {
  id: number;
  arch: string;
  fitness: number | null;
}

export interface AgingEvolutionOptions {
  /** Members alive at once: the most recent `population` finished ones. */
  population: number;
  /** Members drawn for each tournament. */
  sample: number;
  seed: number;
}

/**
 * Aging (regularized) evolution (Real et al. 2019) as a pure decision: until `population` members
 * have finished, the i-th proposal is a random architecture; then `sample` members of the population
 * (the most recent ones: the oldest die) are drawn, and the child is one mutation of the fittest
 * drawn. Every draw is a pure function of (seed, i) and the recorded history, so a restarted
 * search proposes the same architecture for the same i.
 */
export function proposeArch(
  history: readonly EvolutionMember[],
  o: AgingEvolutionOptions,
  i: number,
): { arch: string; parent?: number } {
  if (!(o.population >= 2 && o.sample >= 1 && o.sample <= o.population))
    throw new RangeError(`aging evolution needs population >= 2 and 1 <= sample <= population`);
  const alive = history.slice(-o.population);
  const fit = alive.filter((m): m is EvolutionMember & { fitness: number } => m.fitness !== null);
  if (alive.length < o.population || fit.length === 0) return { arch: randomArch(o.seed, i) };
  const rng = new Rng(mixSeed(o.seed, i, 0x41474500));
  let parent: (EvolutionMember & { fitness: number }) | undefined;
  for (let k = 0; k < o.sample; k++) {
    const m = alive[rng.int(alive.length)];
    if (m.fitness === null) continue;
    if (!parent || m.fitness > parent.fitness || (m.fitness === parent.fitness && m.id < parent.id))
      parent = m as EvolutionMember & { fitness: number };
  }
  // A tournament of failed members only: the fittest alive is the parent.
  parent ??= fit.reduce((b, m) => (m.fitness > b.fitness ? m : b));
  return { arch: mutateArch(parent.arch, o.seed, i), parent: parent.id };
}

/**
 * Fitness of a model: validation accuracy minus `lambda` times log10 of its cost in millions of
 * multiply-accumulates (a model 10x costlier must be `lambda` more accurate), as in StyleNAS's
 * quality-minus-complexity objective; -Infinity when it breaks a constraint.
 */
export function costAwareFitness(accuracy: number, macs: number, lambda: number, feasible = true): number {
  if (!feasible) return -Infinity;
  return accuracy - lambda * Math.log10(Math.max(macs, 1) / 1e6);
}
