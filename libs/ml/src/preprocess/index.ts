export {
  decodeImage,
  decodeImageWithSharp,
  DEFAULT_MAX_INPUT_PIXELS,
  SUPPORTED_IMAGE_FORMATS,
} from './decode-image';
export type { DecodeOptions, DecodedImage, FitPolicy } from './decode-image';
export { IMAGENET_MEAN_STD, normalizationSchema, normalizePixels } from './normalization';
export type { Normalization } from './normalization';
export { PreprocessError } from './preprocess-errors';
export type { PreprocessErrorCode } from './preprocess-errors';
export { imagesToBatch, imageToTensor, preprocessImage } from './preprocess-image';
export type { ImageInputSpec, PreprocessedImage, PreprocessOptions } from './preprocess-image';
export {
  averageProbabilities,
  FEATURE_HEAD_VIEWS,
  FEATURE_VIEWS,
  predictProbabilities,
  TEST_TIME_VIEWS,
  testTimeAveragingOf,
  testTimeViewsSchema,
  viewOf,
  viewProbabilities,
} from './image-views';
export type { FeatureView, TestTimeAveraging, TestTimeView } from './image-views';
