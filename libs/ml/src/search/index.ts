// Search under a budget: spaces, seeded samplers, successive halving (ASHA). Plain TypeScript, no
// TensorFlow.js: the worker runs the trials these decide.
export { sampleAt, validateSpace, SearchSpaceError } from './space';
export type { ParamSpec, ParamValue, Params, SearchSpace } from './space';
export { splitByQuantile, tpeSampleAt, TPE_DEFAULTS } from './tpe';
export type { TpeObservation, TpeOptions } from './tpe';
export { asha, ashaCandidates, bestOutcome, rungResources } from './asha';
export type { AshaDecision, AshaOptions, RungOutcome } from './asha';
export {
  archCost,
  DEFAULT_NAS_ARCH,
  formatArch,
  mutateArch,
  NasArchError,
  parseArch,
  randomArch,
  stageStride,
} from './arch';
export type { ArchCost, NasArch, NasStage } from './arch';
export { costAwareFitness, proposeArch } from './evolution';
export type { AgingEvolutionOptions, EvolutionMember } from './evolution';
export { bestWithin, paretoFront } from './pareto';
