// Training-time data augmentation (seeded per batch; applied to training batches only).
export { randomHorizontalFlip, randomResizedCrop, colorJitter } from './ops';
export type { ResizedCropOptions, ColorJitterOptions } from './ops';
export { imageAugmenter, AUGMENTATION_POLICIES } from './augmenter';
export type { AugmentationPolicy, ImageAugmenterOptions } from './augmenter';
export {
  trivialAugment,
  applyTrivial,
  drawTrivial,
  TRIVIAL_OPS,
  randAugment,
  drawRandAugment,
  RANDAUGMENT_DEFAULTS,
  RANDAUGMENT_RANGES,
  WIDE_RANGES,
} from './trivial';
export type { TrivialOp, TrivialDraw, OpRanges } from './trivial';
export { mixup, cutmix, betaSample, MIXUP_ALPHA, CUTMIX_ALPHA } from './mix';
export type { Mixed } from './mix';
