import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { ImageDataset } from './image-dataset';
import { DatasetUnavailableError } from './mnist';

/**
 * Real images from the Debian package `tuxpaint-stamps-default` (2022.06.04-1, GPL-2; Bill Kendrick
 * and the Tux Paint contributors; `apt-get install tuxpaint-stamps-default`): the stamps of the Tux
 * Paint drawing program, PNG cut-outs (transparent background) of animals, foods, plants, buildings,
 * vehicles and household objects, mostly photographs, some drawn. The class is the stamp's top-level
 * folder. Not made in this project; nothing in the repository ships them.
 */
export const TUXPAINT_STAMPS_DIR = '/usr/share/tuxpaint/stamps';

/** The six object categories (drawn symbols, seasonal decorations and the small folders left out). */
export const STAMP_CLASSES = ['animals', 'food', 'household', 'plants', 'town', 'vehicles'] as const;

export interface TuxpaintStampsOptions {
  /** Square side the stamps are fitted into (whole stamp kept, on white). Default 64. */
  size?: number;
  /** Top-level folders to keep, in class order. Default {@link STAMP_CLASSES}. */
  classes?: readonly string[];
  /** Where the package installed the stamps. Default {@link TUXPAINT_STAMPS_DIR}. */
  dir?: string;
}

async function pngsUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await pngsUnder(p)));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.png')) out.push(p);
  }
  return out.sort();
}

/** The stamps of `tuxpaint-stamps-default` as a 3-channel image dataset labeled by category (split 'all'). */
export async function loadTuxpaintStamps(opts: TuxpaintStampsOptions = {}): Promise<ImageDataset> {
  const size = opts.size ?? 64;
  if (!Number.isInteger(size) || size < 8 || size > 512)
    throw new RangeError('size must be an integer in 8..512');
  const dir = opts.dir ?? TUXPAINT_STAMPS_DIR;
  const classes = opts.classes ?? STAMP_CLASSES;
  if (classes.length < 2) throw new DatasetUnavailableError('tuxpaint stamps: fewer than 2 classes selected');
  const chosen: Array<{ file: string; label: number }> = [];
  for (const [label, c] of classes.entries()) {
    let files: string[];
    try {
      files = await pngsUnder(path.join(dir, c));
    } catch {
      throw new DatasetUnavailableError(
        `tuxpaint stamps: ${path.join(dir, c)} is missing (apt-get install tuxpaint-stamps-default)`,
      );
    }
    chosen.push(...files.map((file) => ({ file, label })));
  }
  return cutoutsOnWhite('tuxpaint-stamps', chosen, size, classes);
}

/**
 * PNG cut-outs (transparent background) as a 3-channel dataset: each image fitted whole into a
 * `size` square on white, alpha flattened onto white. Shared by the stamps and clip-art loaders.
 */
export async function cutoutsOnWhite(
  name: string,
  chosen: ReadonlyArray<{ file: string; label: number }>,
  size: number,
  classes: readonly string[],
  limitInputPixels?: number,
): Promise<ImageDataset> {
  const px = size * size * 3;
  const images = new Uint8Array(chosen.length * px);
  const labels = new Uint8Array(chosen.length);
  for (const [i, { file, label }] of chosen.entries()) {
    const data = await sharp(file, limitInputPixels !== undefined ? { limitInputPixels } : {})
      .resize(size, size, { fit: 'contain', background: '#ffffff' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer();
    images.set(data.subarray(0, px), i * px);
    labels[i] = label;
  }
  return {
    name,
    split: 'all',
    count: chosen.length,
    height: size,
    width: size,
    channels: 3,
    images,
    labels,
    classNames: [...classes],
  };
}
