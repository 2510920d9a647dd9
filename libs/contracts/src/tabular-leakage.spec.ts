import { LEAKAGE_SCORE, leakageScore, leakageWarning } from './tabular-leakage';

/** Seeded LCG in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe('leakageScore (the possible_leakage rule shared by ingestion and training)', () => {
  const rand = lcg(7);
  const y = Array.from({ length: 200 }, () => rand() * 100);
  const noise = Array.from({ length: 200 }, () => rand() * 100);
  const split = <T>(a: T[]) => ({ train: a.slice(0, 160), valid: a.slice(160) });

  it('flags a numeric column derived from a regression target, not an unrelated one', () => {
    const leak = split(y.map((v) => v / 1000));
    const other = split(noise);
    const ys = split(y);
    const input = (c: { train: number[]; valid: number[] }) => ({
      task: 'regression' as const,
      classes: 1,
      train: { cells: Float64Array.from(c.train), y: ys.train },
      validation: { cells: Float64Array.from(c.valid), y: ys.valid },
    });
    expect(leakageScore(input(leak))).toBeGreaterThanOrEqual(LEAKAGE_SCORE);
    expect(leakageScore(input(other))).toBeLessThan(0.5);
    expect(leakageWarning('price_k', input(leak))).toMatchObject({
      code: 'possible_leakage',
      subject: 'price_k',
    });
    expect(leakageWarning('noise', input(other))).toBeNull();
  });

  it('flags a category that names the class; unseen and missing cells fall back to every training row', () => {
    const cls = y.map((v) => (v < 30 ? 0 : v < 60 ? 1 : 2));
    const ys = split(cls);
    const named = split(cls.map((c, i) => (i === 5 ? null : ['a', 'b', 'c'][c])));
    const ids = split(cls.map((_, i) => `id-${i}`));
    const input = (c: { train: (string | null)[]; valid: (string | null)[] }) => ({
      task: 'classification' as const,
      classes: 3,
      train: { cells: c.train, y: ys.train },
      validation: { cells: c.valid, y: ys.valid },
    });
    expect(leakageScore(input(named))).toBe(1);
    // Every validation id is unseen in train: the majority class of every training row is
    // predicted, right on about 40% of the rows (classes of 30/30/40%).
    const score = leakageScore(input(ids))!;
    expect(score).toBeGreaterThan(0.2);
    expect(score).toBeLessThan(0.6);
  });

  it('flags nothing with fewer than LEAKAGE_MIN_VALIDATION_ROWS (30) validation rows', () => {
    expect(
      leakageScore({
        task: 'regression',
        classes: 1,
        train: { cells: Float64Array.from(y.slice(0, 50)), y: y.slice(0, 50) },
        validation: { cells: Float64Array.from(y.slice(50, 79)), y: y.slice(50, 79) },
      }),
    ).toBeNull();
  });
});
