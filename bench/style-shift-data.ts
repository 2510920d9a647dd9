/**
 * The style-shift task shared by bench/style-shift.ts, style-shift-views.ts and style-shift-robust.ts:
 * 5 classes found in both openclipart-png (public domain) and tuxpaint-stamps-default (GPL-2), their
 * folders in each package, the relabelling onto the shared names, and the stratified folds the
 * cached-feature experiments cross-validate on.
 */
import type { ImageDataset } from '../libs/ml/src/data/image-dataset';

export const CLASSES = ['animals', 'buildings', 'food', 'plants', 'vehicles'];
/** Each shared class's folder in openclipart-png, in CLASSES order. */
export const CLIPART_FOLDERS = ['animals', 'buildings', 'food', 'plants', 'transportation'];
/** Each shared class's folder in tuxpaint-stamps-default, in CLASSES order. */
export const STAMP_FOLDERS = ['animals', 'town', 'food', 'plants', 'vehicles'];

/** A dataset loaded from `folders` (in CLASSES order) relabelled onto the shared class names. */
export function onShared(ds: ImageDataset, folders: string[]): ImageDataset {
  const labels = new Uint8Array(ds.count);
  for (let i = 0; i < ds.count; i++) labels[i] = folders.indexOf(ds.classNames[ds.labels[i]]);
  return { ...ds, labels, classNames: [...CLASSES] };
}

/** Stratified folds (a seeded LCG, seed 7): the fold of each image, 0..folds-1. */
export function stratifiedFolds(ds: ImageDataset, folds: number): number[] {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const fold = new Array<number>(ds.count).fill(0);
  for (let c = 0; c < CLASSES.length; c++) {
    const idx = [...Array(ds.count).keys()].filter((i) => ds.labels[i] === c);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((i, k) => (fold[i] = k % folds));
  }
  return fold;
}

/** CPU seconds of this process so far (all threads). */
export const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export const log = (m: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
};
