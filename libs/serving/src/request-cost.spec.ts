import { measureRequestCost } from './request-cost';

const manifest = (size: { height: number; width: number; channels: 1 | 3 }) => ({
  input: { kind: 'image' as const, fit: 'cover' as const, ...size },
  normalization: { kind: 'unit' as const },
  classNames: ['a', 'b', 'c'],
});

describe('measureRequestCost', () => {
  it('times the request path of one image at the model input size (real decoder)', async () => {
    const small = await measureRequestCost(manifest({ height: 28, width: 28, channels: 1 }), {
      budgetMs: 2_000,
    });
    expect(small.runs).toBeGreaterThanOrEqual(3);
    expect(small.requestMs).toBeGreaterThan(0);
    expect(Number.isFinite(small.requestMs)).toBe(true);
  });

  it('refuses a model without image input', async () => {
    await expect(
      measureRequestCost({
        input: { kind: 'tabular', features: ['x'] },
        normalization: null,
        classNames: ['a', 'b'],
      }),
    ).rejects.toThrow(RangeError);
  });
});
