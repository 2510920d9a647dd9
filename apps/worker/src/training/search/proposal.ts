import {
  sampleAt,
  tpeSampleAt,
  TPE_DEFAULTS,
  type BackboneSpec,
  type ParamValue,
  type Params,
  type SearchSpace,
  type TpeObservation,
} from '@modelsmith/ml';
import type { DatasetShape } from '../recipe';
import { inputSizeFor } from './recipe-space';

/** How a search draws its new configurations: seeded random draws, or TPE over the recorded trials. */
export type SearchSampler = 'random' | 'tpe';

type Json = string | number | boolean | null;

/** What a proposal reads of a recorded trial (search-runner's LedgerTrial has it). */
export interface RecordedTrial {
  status: string;
  params: Record<string, Json>;
}

/**
 * The new configuration `config` of a search: `sampleAt(space, seed, config)` for 'random'; for
 * 'tpe', `tpeSampleAt` over the finished bottom-rung trials recorded so far (one per configuration,
 * every configuration has one, all trained for the same epochs). A pure function of (space, seed,
 * config, the recorded trials): a resumed search proposes the same configurations.
 */
export function proposeParams<T extends RecordedTrial>(
  sampler: SearchSampler,
  space: SearchSpace,
  seed: number,
  config: number,
  trials: readonly T[],
  score: (t: T) => number | null,
  spec: (id: string) => BackboneSpec,
  shape: DatasetShape,
): Params {
  if (sampler === 'random') return sampleAt(space, seed, config);
  return tpeSampleAt(space, seed, config, observations(space, trials, score, spec, shape));
}

/**
 * How many leading trials (by index) of a sequential 'random' search a 'tpe' search with the same
 * seed runs identically: TPE draws `sampleAt(space, seed, config)` itself until `TPE_DEFAULTS.startup`
 * rung-0 trials have a score, so the two part at the first new configuration (rung 0, after trial 0)
 * proposed with that many scored before it. `trials.length` when they never part.
 */
export function samplersAgreeFor<T extends RecordedTrial & { index: number }>(
  trials: readonly T[],
  score: (t: T) => number | null,
): number {
  const byIndex = [...trials].sort((a, b) => a.index - b.index);
  let scored = 0;
  for (const [k, t] of byIndex.entries()) {
    if (k > 0 && Number(t.params.rung) === 0 && scored >= Math.max(2, TPE_DEFAULTS.startup)) return k;
    if (Number(t.params.rung) === 0 && score(t) !== null) scored++;
  }
  return byIndex.length;
}

/** The finished rung-0 trials, oldest configuration first, as TPE observations in the space's terms. */
export function observations<T extends RecordedTrial>(
  space: SearchSpace,
  trials: readonly T[],
  score: (t: T) => number | null,
  spec: (id: string) => BackboneSpec,
  shape: DatasetShape,
): TpeObservation[] {
  return trials
    .filter(
      (t) =>
        t.status !== 'RUNNING' &&
        t.status !== 'PENDING' &&
        Number(t.params.rung) === 0 &&
        t.params.continuationOf === undefined,
    )
    .sort((a, b) => Number(a.params.config) - Number(b.params.config))
    .map((t) => ({ params: spaceParams(space, t.params, spec, shape), score: score(t) }));
}

/**
 * A trial's recorded configuration (TrialConfig) back in the recipe space's terms. A value that did
 * not come from the space is left out: the input scale when several scales give the recorded size
 * (or none does), a batch size cut to the training set, the regularizer of a scratch backbone (it
 * has none) and the strength of no regularizer.
 */
export function spaceParams(
  space: SearchSpace,
  p: Record<string, Json>,
  spec: (id: string) => BackboneSpec,
  shape: DatasetShape,
): Record<string, ParamValue | undefined> {
  const out: Record<string, ParamValue | undefined> = {};
  const backbone = String(p.backbone);
  let s: BackboneSpec | undefined;
  try {
    s = spec(backbone);
  } catch {
    s = undefined;
  }
  out.backbone = backbone;
  const scales = space.inputScale?.kind === 'choice' ? space.inputScale.values : [];
  if (s) {
    const match = scales.filter((k) => inputSizeFor(s, shape, Number(k)) === p.inputSize);
    if (match.length === 1) out.inputScale = match[0];
  }
  for (const k of ['learningRate', 'weightDecay', 'batchSize', 'augmentation'] as const)
    if (p[k] !== null && p[k] !== undefined) out[k] = p[k];
  if (s?.pretrained && typeof p.regularizer === 'string') {
    out.regularizer = p.regularizer;
    if (p.regularizer !== 'none' && typeof p.regularizerAlpha === 'number')
      out.regularizerAlpha = p.regularizerAlpha;
  }
  return out;
}
