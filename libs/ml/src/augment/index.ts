// Training-time data augmentation (seeded per batch; applied to training batches only).
export { randomHorizontalFlip, randomResizedCrop, colorJitter } from './ops';
export type { ResizedCropOptions, ColorJitterOptions } from './ops';
export { imageAugmenter } from './augmenter';
export type { AugmentationPolicy } from './augmenter';
