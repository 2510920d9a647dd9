import { arrayBatches, type EpochBatchFactory } from '../train/batches';
import { Rng, mixSeed, seededPermutation } from '../train/rng';

/**
 * A small image-classification dataset held as bytes (not tensors): `images` is
 * [count x height x width x channels] uint8 row-major, `labels` the class index of each image.
 */
export interface ImageDataset {
  name: string;
  split: 'train' | 'test' | 'all';
  count: number;
  height: number;
  width: number;
  channels: number;
  images: Uint8Array;
  labels: Uint8Array;
  classNames: string[];
}

export function pixelsPerImage(ds: Pick<ImageDataset, 'height' | 'width' | 'channels'>): number {
  return ds.height * ds.width * ds.channels;
}

/** Count of images per class index. */
export function classCounts(ds: ImageDataset): number[] {
  const counts = new Array<number>(ds.classNames.length).fill(0);
  for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
  return counts;
}

/** A dataset made of the given images of `ds` (in the given order). */
export function takeIndices(
  ds: ImageDataset,
  indices: ArrayLike<number>,
  extra: Partial<ImageDataset> = {},
): ImageDataset {
  const px = pixelsPerImage(ds);
  const images = new Uint8Array(indices.length * px);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(ds.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = ds.labels[j];
  }
  return { ...ds, count: indices.length, images, labels, ...extra };
}

export interface SubsetOptions {
  /** Class indices to keep (in the order they get new indices when `remap`). */
  classes: readonly number[];
  /** Keep at most this many images per class, chosen by `seed` (default: all). */
  perClass?: number;
  /** Seed for choosing images when `perClass` is set. Default 0. */
  seed?: number;
  /** Renumber the kept classes 0..k-1 in the order of `classes` (default true). */
  remap?: boolean;
  /** Images to leave out (e.g. already used elsewhere), by index in `ds`. */
  exclude?: ReadonlySet<number>;
}

/** The images of some classes, optionally a seeded sample of `perClass` per class. */
export function subsetByClass(ds: ImageDataset, opts: SubsetOptions): ImageDataset {
  const byClass = new Map<number, number[]>(opts.classes.map((c) => [c, []]));
  for (let i = 0; i < ds.count; i++) {
    if (opts.exclude?.has(i)) continue;
    byClass.get(ds.labels[i])?.push(i);
  }
  const chosen: number[] = [];
  opts.classes.forEach((c, ci) => {
    let idx = byClass.get(c) ?? [];
    if (opts.perClass !== undefined && idx.length > opts.perClass) {
      const perm = seededPermutation(idx.length, mixSeed(opts.seed ?? 0, c, ci));
      idx = Array.from(perm.subarray(0, opts.perClass), (k) => idx[k]).sort((a, b) => a - b);
    }
    chosen.push(...idx);
  });
  const remap = opts.remap ?? true;
  const sub = takeIndices(ds, chosen);
  if (remap) {
    const map = new Map(opts.classes.map((c, i) => [c, i]));
    for (let i = 0; i < sub.count; i++) sub.labels[i] = map.get(sub.labels[i]) as number;
    sub.classNames = opts.classes.map((c) => ds.classNames[c]);
  }
  return sub;
}

/** Stratified split into train/test parts with `testFraction` of every class in test. */
export function stratifiedSplit(
  ds: ImageDataset,
  opts: { testFraction: number; seed?: number },
): { train: ImageDataset; test: ImageDataset } {
  if (!(opts.testFraction > 0 && opts.testFraction < 1))
    throw new RangeError('testFraction must be in (0, 1)');
  const rng = new Rng(opts.seed ?? 0);
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  const train: number[] = [];
  const test: number[] = [];
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const k = Math.round(idx.length * opts.testFraction);
    test.push(...idx.slice(0, k));
    train.push(...idx.slice(k));
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return {
    train: takeIndices(ds, train, { split: 'train' }),
    test: takeIndices(ds, test, { split: 'test' }),
  };
}

export interface ImageBatchOptions {
  batchSize: number;
  /** Seeded reshuffle every epoch (default false). */
  shuffle?: boolean;
  /** Pixel scaling: 'unit' maps 0..255 to 0..1 (default); or explicit (x / 255 - mean) / std. */
  normalize?: 'unit' | { mean: number; std: number };
  /** Seeded random horizontal flips (augmentation for training; default false). */
  flipHorizontal?: boolean;
  /** Keep a smaller last batch (default true). */
  keepRemainder?: boolean;
}

/**
 * A resumable batch factory over an {@link ImageDataset}: xs are float32 [batch, h, w, c],
 * ys int32 class indices. Tensors exist only for the batch being used.
 */
export function imageBatches(ds: ImageDataset, opts: ImageBatchOptions): EpochBatchFactory {
  const { height: h, width: w, channels: c } = ds;
  const px = pixelsPerImage(ds);
  const norm = opts.normalize ?? 'unit';
  const mean = norm === 'unit' ? 0 : norm.mean;
  const std = norm === 'unit' ? 1 : norm.std;
  const scale = 1 / (255 * std);
  const shift = -mean / std;
  return arrayBatches({
    count: ds.count,
    batchSize: opts.batchSize,
    sampleShape: [h, w, c],
    keepRemainder: opts.keepRemainder,
    shuffle: opts.shuffle,
    fill: (index, xs, offset, req) => {
      const src = index * px;
      // The flip of a sample is a pure function of (seed, epoch, sample): resumable and order-free.
      const flip = opts.flipHorizontal && (mixSeed(req.seed, req.epoch, index, 0xf11b) & 1) === 1;
      if (flip) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const from = src + (y * w + (w - 1 - x)) * c;
            const to = offset + (y * w + x) * c;
            for (let k = 0; k < c; k++) xs[to + k] = ds.images[from + k] * scale + shift;
          }
        }
      } else {
        for (let k = 0; k < px; k++) xs[offset + k] = ds.images[src + k] * scale + shift;
      }
      return ds.labels[index];
    },
  });
}
