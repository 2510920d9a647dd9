import { syntheticTable, warmUpTabular } from './warm-up';

describe('tabular warm-up', () => {
  it('builds the same seeded table every time, with every column type and some missing cells', () => {
    const a = syntheticTable('classification', 3, 200, 7);
    expect(syntheticTable('classification', 3, 200, 7)).toEqual(a);
    expect(new Set(a.map((r) => r.y))).toEqual(new Set(['c0', 'c1', 'c2']));
    expect(a.some((r) => r.x1 === '')).toBe(true);
    expect(a.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(String(r.day)))).toBe(true);
    const reg = syntheticTable('regression', 0, 50, 1);
    expect(reg.every((r) => Number.isFinite(Number(r.y)))).toBe(true);
  });

  it('runs the three searches per round and none once its CPU allowance is spent', async () => {
    const one = await warmUpTabular({ rounds: 1, rows: 60 });
    expect(one.searches).toBe(3);
    expect(one.cpuMs).toBeGreaterThan(0);
    expect((await warmUpTabular({ rounds: 5, maxCpuMs: 0 })).searches).toBe(0);
  });
});
