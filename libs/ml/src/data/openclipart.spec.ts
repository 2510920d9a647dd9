import { existsSync } from 'node:fs';
import { describeIf } from '../../../../test/support/skip';
import { classCounts } from './image-dataset';
import { DatasetUnavailableError } from './mnist';
import { loadOpenclipart, OPENCLIPART_CLASSES, OPENCLIPART_DIR, openclipartFiles } from './openclipart';

const installed = existsSync(OPENCLIPART_DIR);
// The Debian package is not a dependency of the project: without it the reading spec skips itself.
const withPackage = describeIf(installed, `${OPENCLIPART_DIR} is absent (apt-get install openclipart-png)`);

withPackage('loadOpenclipart (Debian openclipart-png)', () => {
  it('reads the six categories as a 3-channel dataset at the requested size', async () => {
    const ds = await loadOpenclipart({ size: 16 });
    expect(ds.classNames).toEqual([...OPENCLIPART_CLASSES]);
    // 1:0.18+dfsg-19: animals, buildings, food, people, plants, transportation (linked drawings once,
    // drawings in two classes and posters over 40 Mpx left out).
    expect(classCounts(ds)).toEqual([277, 65, 316, 374, 69, 303]);
    expect(ds).toMatchObject({ count: 1404, height: 16, width: 16, channels: 3, split: 'all' });
    // Drawings on white: bright on average but not blank, and images differ from each other.
    const mean = ds.images.reduce((s, v) => s + v, 0) / ds.images.length;
    expect(mean).toBeGreaterThan(150);
    expect(mean).toBeLessThan(250);
    const px = 16 * 16 * 3;
    expect(Buffer.compare(ds.images.subarray(0, px), ds.images.subarray(px, 2 * px))).not.toBe(0);
  }, 120_000);

  it('gives a drawing linked into two chosen classes to neither', async () => {
    const [food, animals] = await openclipartFiles({ classes: ['food', 'animals'] });
    const [foodAlone] = await openclipartFiles({ classes: ['food', 'buildings'] });
    // The package links drawings of animals (a crawfish, ...) into food.
    expect(foodAlone.length).toBeGreaterThan(food.length);
    expect(food.filter((f) => animals.includes(f))).toEqual([]);
  }, 120_000);
});

describe('loadOpenclipart without the package', () => {
  it('names the missing folder and the package to install', async () => {
    await expect(loadOpenclipart({ size: 8, dir: '/nonexistent-clipart' })).rejects.toBeInstanceOf(
      DatasetUnavailableError,
    );
    await expect(loadOpenclipart({ size: 8, dir: '/nonexistent-clipart' })).rejects.toThrow(
      /apt-get install openclipart-png/,
    );
    await expect(loadOpenclipart({ size: 4 })).rejects.toBeInstanceOf(RangeError);
    await expect(loadOpenclipart({ classes: ['animals'] })).rejects.toBeInstanceOf(DatasetUnavailableError);
  });
});
