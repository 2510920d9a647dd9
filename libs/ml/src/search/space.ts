import { mixSeed, Rng } from '../train/rng';

/** One searched parameter: a categorical choice, or a (log-)uniform number, or an integer range. */
export type ParamSpec =
  | { kind: 'choice'; values: readonly ParamValue[] }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'loguniform'; min: number; max: number }
  | { kind: 'int'; min: number; max: number };

export type ParamValue = string | number | boolean;

/** A flat search space: parameter name -> its distribution. */
export type SearchSpace = Readonly<Record<string, ParamSpec>>;

/** One configuration drawn from a space. */
export type Params = Record<string, ParamValue>;

export class SearchSpaceError extends Error {
  readonly code = 'SEARCH_SPACE_INVALID';
}

/** Throws SearchSpaceError for an empty choice, a reversed range or a non-positive log range. */
export function validateSpace(space: SearchSpace): void {
  for (const [name, p] of Object.entries(space)) {
    switch (p.kind) {
      case 'choice':
        if (p.values.length === 0) throw new SearchSpaceError(`${name}: a choice needs at least one value`);
        break;
      case 'uniform':
      case 'int':
        if (!(p.min <= p.max)) throw new SearchSpaceError(`${name}: min ${p.min} > max ${p.max}`);
        break;
      case 'loguniform':
        if (!(p.min > 0 && p.min <= p.max))
          throw new SearchSpaceError(`${name}: a log-uniform range needs 0 < min <= max`);
        break;
    }
  }
}

function draw(p: ParamSpec, rng: Rng): ParamValue {
  switch (p.kind) {
    case 'choice':
      return p.values[rng.int(p.values.length)];
    case 'uniform':
      return p.min + rng.next() * (p.max - p.min);
    case 'loguniform':
      return Math.exp(Math.log(p.min) + rng.next() * (Math.log(p.max) - Math.log(p.min)));
    case 'int':
      return p.min + rng.int(p.max - p.min + 1);
  }
}

/**
 * The `i`-th configuration of a seeded random search: a pure function of (space, seed, i), so a
 * search that restarts after a crash draws the same configurations without replaying the earlier
 * draws. Parameters are drawn in sorted name order, each from its own stream, so adding a parameter
 * to a space does not change the values drawn for the others.
 */
export function sampleAt(space: SearchSpace, seed: number, i: number): Params {
  validateSpace(space);
  const out: Params = {};
  for (const name of Object.keys(space).sort()) {
    const rng = new Rng(mixSeed(seed, i, hashName(name)));
    out[name] = draw(space[name], rng);
  }
  return out;
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
