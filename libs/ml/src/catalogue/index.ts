// The static description of the model zoo: what GET /v1/backbones lists and the zoo loads. Free of
// TensorFlow.js, so the API can list and validate backbones without loading it (catalogue.spec.ts).
export type { BackboneFamily, BackboneSource, BackboneSpec, ImageInputSize } from './backbone-spec';
export { builtinBackbones } from './builtin-backbones';
export { SMALL_CNN_FEATURE_LAYER, SMALL_CNN_WIDTHS, smallCnnFeatureDim } from './small-cnn-shape';
export type { SmallCnnWidth } from './small-cnn-shape';
export { chooseBackbone, inputFor, PHASE_EPOCHS, phasePlan } from './training-plan';
export type { DatasetShape, PhasePlan } from './training-plan';
export {
  tabularCandidates,
  tabularTrialPlan,
  textCandidatePlan,
  textTrialPlan,
  TABULAR_SEARCH_EXTRA_TRIALS,
  TABULAR_SEARCH_MIN_VALIDATION_ROWS,
  TEXT_SEARCH_EXTRA_TRIALS,
  textMaxEpochs,
  TEXT_CNN_CANDIDATE_NAME,
  TEXT_CNN_MAX_EPOCHS,
  TEXT_LINEAR_CANDIDATE_NAMES,
} from './record-plans';
export type { RecordCandidatePlan, TabularCandidateName } from './record-plans';
