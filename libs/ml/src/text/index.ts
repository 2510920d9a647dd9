// Text classification in plain TypeScript: Unicode-aware tokenizer, hashed n-gram TF-IDF features,
// a linear softmax model trained with AdaGrad SGD, a CNN over token embeddings, and the portable artifact.
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
export {
  balancedClassWeights,
  fitSoftmaxLbfgs,
  LinearSoftmax,
  SoftmaxSgd,
  type SgdOptions,
  type SoftmaxLbfgsOptions,
  type SoftmaxLbfgsResult,
} from './linear-model';
export {
  classifyWith,
  TextClassifier,
  type TextClassification,
  type TextClassScore,
  type TextModel,
} from './text-classifier';
export {
  TextCnn,
  TextCnnClassifier,
  textCnnConfigSchema,
  TextCnnTrainer,
  tokenBuckets,
  TokenVocabulary,
  type TextCnnConfig,
  type TextCnnSgdOptions,
  type TextCnnWeights,
} from './text-cnn';
export {
  DEFAULT_TEXT_CANDIDATES,
  TEXT_CNN_CANDIDATE,
  trainTextClassifier,
  type CnnTextCandidate,
  type LinearTextCandidate,
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
