import { page } from './pagination';

describe('page', () => {
  const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  it('returns a cursor when more rows exist', () => {
    expect(page(rows, 2)).toEqual({ items: [{ id: 'a' }, { id: 'b' }], nextCursor: 'b' });
  });
  it('returns no cursor on the last page', () => {
    expect(page(rows, 3)).toEqual({ items: rows, nextCursor: null });
  });
});
