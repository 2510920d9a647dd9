import * as tf from '@tensorflow/tfjs';
import {
  FASHION_MNIST_CLASSES,
  classCounts,
  imageBatches,
  loadFashionMnist,
  loadMnist,
  stratifiedSplit,
  subsetByClass,
  type ImageDataset,
} from '.';
import { epochBatches } from '../train';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const meanPixel = (ds: ImageDataset) => ds.images.reduce((a, b) => a + b, 0) / ds.images.length / 255;

describe('loadFashionMnist', () => {
  it('gives the official splits: 60,000 train and 10,000 test images, balanced over 10 classes', async () => {
    const train = await loadFashionMnist({ split: 'train' });
    const test = await loadFashionMnist({ split: 'test' });
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(train.images.length).toBe(60000 * 784);
    expect([train.height, train.width, train.channels]).toEqual([28, 28, 1]);
    expect(classCounts(train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test)).toEqual(new Array(10).fill(1000));
    expect(train.classNames).toEqual([...FASHION_MNIST_CLASSES]);
    // The published per-split pixel means (train 0.2860, test 0.2868) identify the split boundary.
    expect(meanPixel(train)).toBeCloseTo(0.286, 3);
    expect(meanPixel(test)).toBeCloseTo(0.2869, 3);
    const all = await loadFashionMnist({ split: 'all' });
    expect(all.count).toBe(70000);
  }, 60_000);
});

describe('loadMnist', () => {
  it('gives the 10,000 digits of the npm package as bytes', async () => {
    const ds = await loadMnist();
    expect(ds.count).toBe(10000);
    expect(ds.split).toBe('all');
    expect(classCounts(ds).reduce((a, b) => a + b, 0)).toBe(10000);
    expect(Math.max(...ds.images.subarray(0, 784 * 10))).toBe(255);
    const { train, test } = stratifiedSplit(ds, { testFraction: 0.2, seed: 1 });
    expect(train.count + test.count).toBe(10000);
    const tc = classCounts(test);
    classCounts(ds).forEach((n, c) => expect(tc[c]).toBe(Math.round(n * 0.2)));
  }, 60_000);
});

/** A 4-image 2x3 dataset with distinct pixel values. */
function tiny(): ImageDataset {
  const images = Uint8Array.from({ length: 4 * 6 }, (_, i) => i * 10);
  return {
    name: 'tiny',
    split: 'all',
    count: 4,
    height: 2,
    width: 3,
    channels: 1,
    images,
    labels: Uint8Array.from([0, 1, 2, 1]),
    classNames: ['a', 'b', 'c'],
  };
}

describe('subsetByClass', () => {
  it('keeps and renumbers the chosen classes, optionally sampling per class', () => {
    const ds = tiny();
    const sub = subsetByClass(ds, { classes: [1, 2] });
    expect(sub.count).toBe(3);
    expect(Array.from(sub.labels)).toEqual([0, 0, 1]);
    expect(sub.classNames).toEqual(['b', 'c']);
    expect(Array.from(sub.images.subarray(0, 6))).toEqual(Array.from(ds.images.subarray(6, 12)));
    const one = subsetByClass(ds, { classes: [1], perClass: 1, seed: 3 });
    expect(one.count).toBe(1);
    expect(subsetByClass(ds, { classes: [1], perClass: 1, seed: 3 }).images).toEqual(one.images);
    const kept = subsetByClass(ds, { classes: [1, 2], remap: false, exclude: new Set([1]) });
    expect(Array.from(kept.labels)).toEqual([1, 2]);
  });
});

describe('imageBatches', () => {
  it('scales pixels to [0, 1] (or standardises), yields int labels and supports seeded flips', async () => {
    const ds = tiny();
    const plain = imageBatches(ds, { batchSize: 4 });
    const [b] = await collect(plain, 0);
    expect(b.shape).toEqual([4, 2, 3, 1]);
    expect(b.values[1]).toBeCloseTo(10 / 255);
    expect(b.labels).toEqual([0, 1, 2, 1]);

    const std = imageBatches(ds, { batchSize: 4, normalize: { mean: 0.5, std: 0.25 } });
    const [s] = await collect(std, 0);
    expect(s.values[0]).toBeCloseTo((0 - 0.5) / 0.25);

    const flip = imageBatches(ds, { batchSize: 4, flipHorizontal: true });
    const e0 = await collect(flip, 0);
    expect(await collect(flip, 0)).toEqual(e0);
    // Every image is either itself or mirrored.
    for (let i = 0; i < 4; i++) {
      const got = e0[0].values.slice(i * 6, i * 6 + 6);
      const orig = b.values.slice(i * 6, i * 6 + 6);
      const mirrored = [orig[2], orig[1], orig[0], orig[5], orig[4], orig[3]];
      expect([JSON.stringify(orig), JSON.stringify(mirrored)]).toContain(JSON.stringify(got));
    }
  });
});

async function collect(
  source: ReturnType<typeof imageBatches>,
  epoch: number,
): Promise<Array<{ shape: number[]; values: number[]; labels: number[] }>> {
  const out: Array<{ shape: number[]; values: number[]; labels: number[] }> = [];
  for await (const b of epochBatches(source, { epoch, startStep: 0, seed: 1 })) {
    out.push({ shape: b.xs.shape, values: Array.from(b.xs.dataSync()), labels: Array.from(b.ys.dataSync()) });
    b.xs.dispose();
    b.ys.dispose();
  }
  return out;
}
