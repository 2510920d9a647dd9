import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { ImageDataset } from './image-dataset';
import { DatasetUnavailableError } from './mnist';
import { cutoutsOnWhite } from './tuxpaint-stamps';

/**
 * Real drawings from the Debian package `openclipart-png` (1:0.18+dfsg-19; public domain, the Open
 * Clip Art Library's Creative Commons Public Domain Dedication; `apt-get install openclipart-png`):
 * PNG renderings (transparent background) of the Open Clip Art Library 0.18 SVG clip art, in topic
 * folders (animals, food, plants, buildings, transportation, people, ...). The class is the top-level
 * folder; every PNG under it counts (sub-folders too). Not made in this project; nothing in the
 * repository ships them.
 *
 * The package links some drawings into several folders (symbolic links): a drawing is read once per
 * class, and one reachable from two of the chosen classes is left out (it has no single label). Some
 * renderings are posters (up to 21k x 30k pixels): drawings over {@link OPENCLIPART_MAX_PIXELS}
 * pixels are left out too (12 of the six default classes), so loading stays within a few hundred MB.
 */
export const OPENCLIPART_DIR = '/usr/share/openclipart/png';

/** Drawings with more pixels than this are left out (the header is read, never the pixels). */
export const OPENCLIPART_MAX_PIXELS = 40_000_000;

/** The object categories shared (by meaning) with the Tux Paint stamps, and people. */
export const OPENCLIPART_CLASSES = [
  'animals',
  'buildings',
  'food',
  'people',
  'plants',
  'transportation',
] as const;

export interface OpenclipartOptions {
  /** Square side the drawings are fitted into (whole drawing kept, on white). Default 64. */
  size?: number;
  /** Top-level folders to keep, in class order. Default {@link OPENCLIPART_CLASSES}. */
  classes?: readonly string[];
  /** Where the package installed the PNGs. Default {@link OPENCLIPART_DIR}. */
  dir?: string;
}

/** The real paths of the PNGs under `dir`, following symbolic links (each real file once). */
async function pngsUnder(dir: string, seen = new Set<string>()): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    let stat;
    try {
      stat = await fs.stat(p);
    } catch {
      continue; // a dangling link
    }
    if (stat.isDirectory()) {
      const real = await fs.realpath(p);
      if (seen.has(`dir:${real}`)) continue;
      seen.add(`dir:${real}`);
      out.push(...(await pngsUnder(p, seen)));
    } else if (stat.isFile() && entry.name.toLowerCase().endsWith('.png')) {
      out.push(await fs.realpath(p));
    }
  }
  return [...new Set(out)].sort();
}

/** The files of each class (real paths), those reachable from two classes removed. */
export async function openclipartFiles(opts: OpenclipartOptions = {}): Promise<string[][]> {
  const dir = opts.dir ?? OPENCLIPART_DIR;
  const classes = opts.classes ?? OPENCLIPART_CLASSES;
  if (classes.length < 2) throw new DatasetUnavailableError('openclipart: fewer than 2 classes selected');
  const perClass: string[][] = [];
  for (const c of classes) {
    try {
      perClass.push(await pngsUnder(path.join(dir, c)));
    } catch {
      throw new DatasetUnavailableError(
        `openclipart: ${path.join(dir, c)} is missing (apt-get install openclipart-png)`,
      );
    }
  }
  const owners = new Map<string, number>();
  for (const files of perClass) for (const f of files) owners.set(f, (owners.get(f) ?? 0) + 1);
  const out: string[][] = [];
  for (const files of perClass) {
    const kept: string[] = [];
    for (const f of files) {
      if (owners.get(f) !== 1) continue;
      const { width = 0, height = 0 } = await sharp(f, { limitInputPixels: false }).metadata();
      if (width * height <= OPENCLIPART_MAX_PIXELS) kept.push(f);
    }
    out.push(kept);
  }
  return out;
}

/** The drawings of `openclipart-png` as a 3-channel image dataset labeled by category (split 'all'). */
export async function loadOpenclipart(opts: OpenclipartOptions = {}): Promise<ImageDataset> {
  const size = opts.size ?? 64;
  if (!Number.isInteger(size) || size < 8 || size > 512)
    throw new RangeError('size must be an integer in 8..512');
  const classes = opts.classes ?? OPENCLIPART_CLASSES;
  const perClass = await openclipartFiles(opts);
  const chosen = perClass.flatMap((files, label) => files.map((file) => ({ file, label })));
  return cutoutsOnWhite('openclipart', chosen, size, classes, OPENCLIPART_MAX_PIXELS);
}
