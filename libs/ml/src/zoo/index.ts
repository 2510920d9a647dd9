export type { LoadBackboneOptions, LoadedBackbone } from './backbone-spec';
export {
  buildClassifier,
  buildFeatureExtractor,
  multiLayerFeatureExtractor,
  MULTI_LAYER_FEATURES,
} from './classifier';
export type { Classifier, ClassifierOptions } from './classifier';
export { isBatchNormInference, setBatchNormInference } from './batch-norm-mode';
export { ModelZoo } from './model-zoo';
export type { ModelZooOptions } from './model-zoo';
export { registeredBackboneSchema } from './registered-backbone';
export type { RegisteredBackboneInput } from './registered-backbone';
export { buildSmallCnn } from './small-cnn';
export { buildNasCnn } from './nas-cnn';
export type { NasCnnOptions } from './nas-cnn';
export type { SmallCnnOptions } from './small-cnn';
export { ZooError } from './zoo-errors';
export type { ZooErrorCode } from './zoo-errors';
