import { ColumnAccumulator, isDate } from './column-stats';

describe('tabular column statistics: dates', () => {
  it('counts only real calendar days as dates', () => {
    expect(['2024-02-29', '2023-12-31T23:59:59Z', '1/15/2023', '12/31/2023'].map(isDate)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    // Date.parse rolls these over into the next month; they are not dates.
    expect(
      ['2024-02-30', '2023-02-29', '2024-04-31', '2/30/2024', '13/1/2024', '2024-13-01'].map(isDate),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('types a column with an impossible day as text, not date', () => {
    const c = new ColumnAccumulator('listed');
    for (const v of ['2024-01-05', '2024-02-30', '2024-03-01']) c.add(v);
    expect(c.type()).not.toBe('date');
    const ok = new ColumnAccumulator('listed');
    for (const v of ['2024-01-05', '2024-02-29', '2024-03-01']) ok.add(v);
    expect(ok.type()).toBe('date');
  });
});
