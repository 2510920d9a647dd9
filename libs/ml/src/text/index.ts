// Text classification in plain TypeScript: Unicode-aware tokenizer, hashed n-gram TF-IDF features,
// a linear softmax model trained with AdaGrad SGD, and the classifier's portable artifact.
export {
  DEFAULT_TOKENIZER,
  normalizeText,
  tokenize,
  tokenizeNormalized,
  tokenizerConfigSchema,
  type TokenizerConfig,
} from './tokenize';
export {
  countBuckets,
  featureConfigSchema,
  FeatureVocabulary,
  fnv1a,
  hashedCounts,
  type BucketCounts,
  type FeatureConfig,
  type SparseVector,
} from './features';
export { balancedClassWeights, LinearSoftmax, SoftmaxSgd, type SgdOptions } from './linear-model';
export { TextClassifier, type TextClassification, type TextClassScore } from './text-classifier';
export {
  DEFAULT_TEXT_CANDIDATES,
  trainTextClassifier,
  type TextCandidate,
  type TextEpochLog,
  type TextSplit,
  type TextTrainingResult,
  type TextTrialResult,
  type TrainTextOptions,
} from './train-text';
export {
  DEFAULT_MAX_TEXT_CHARS,
  deserializeTextClassifier,
  exportTextClassifier,
  loadTextClassifier,
  readModelTask,
  serializeTextClassifier,
  TEXT_MODEL_FILE,
  TEXT_WEIGHTS_FILE,
  textManifestSchema,
  textModelJsonSchema,
  type ExportTextInfo,
  type TextManifest,
  type TextModelJson,
} from './text-artifact';
