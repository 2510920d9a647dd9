import { existsSync } from 'node:fs';
import { describeIf } from '../../../../test/support/skip';
import { classCounts } from './image-dataset';
import { DatasetUnavailableError } from './mnist';
import { loadTuxpaintStamps, STAMP_CLASSES, TUXPAINT_STAMPS_DIR } from './tuxpaint-stamps';

const installed = existsSync(TUXPAINT_STAMPS_DIR);
// The Debian package is not a dependency of the project: without it the reading spec skips itself.
const withPackage = describeIf(
  installed,
  `${TUXPAINT_STAMPS_DIR} is absent (apt-get install tuxpaint-stamps-default)`,
);

withPackage('loadTuxpaintStamps (Debian tuxpaint-stamps-default)', () => {
  it('reads the six object categories as a 3-channel dataset at the requested size', async () => {
    const ds = await loadTuxpaintStamps({ size: 16 });
    expect(ds.classNames).toEqual([...STAMP_CLASSES]);
    // 2022.06.04-1: animals, food, household, plants, town, vehicles.
    expect(classCounts(ds)).toEqual([146, 67, 34, 39, 79, 38]);
    expect(ds).toMatchObject({ count: 403, height: 16, width: 16, channels: 3, split: 'all' });
    // Cut-outs on white: bright on average but not blank, and images differ from each other.
    const mean = ds.images.reduce((s, v) => s + v, 0) / ds.images.length;
    expect(mean).toBeGreaterThan(100);
    expect(mean).toBeLessThan(250);
    const px = 16 * 16 * 3;
    expect(Buffer.compare(ds.images.subarray(0, px), ds.images.subarray(px, 2 * px))).not.toBe(0);
  });
});

describe('loadTuxpaintStamps without the package', () => {
  it('names the missing folder and the package to install', async () => {
    await expect(loadTuxpaintStamps({ size: 8, dir: '/nonexistent-stamps' })).rejects.toBeInstanceOf(
      DatasetUnavailableError,
    );
    await expect(loadTuxpaintStamps({ size: 8, dir: '/nonexistent-stamps' })).rejects.toThrow(
      /apt-get install tuxpaint-stamps-default/,
    );
    await expect(loadTuxpaintStamps({ size: 4 })).rejects.toBeInstanceOf(RangeError);
    await expect(loadTuxpaintStamps({ classes: ['animals'] })).rejects.toBeInstanceOf(
      DatasetUnavailableError,
    );
  });
});
