import { findNulls } from './nulls';

describe('findNulls', () => {
  it('names every null member and array item by its dotted path', () => {
    expect(
      findNulls(
        { name: 'a', computeMinutesPerMonth: null, config: { topK: null }, parts: [{ etag: 'x' }, null] },
        '',
      ),
    ).toEqual([
      { field: 'computeMinutesPerMonth', messages: ['must not be null (leave the member out instead)'] },
      { field: 'config.topK', messages: ['must not be null (leave the member out instead)'] },
      { field: 'parts.1', messages: ['must not be null (leave the member out instead)'] },
    ]);
  });

  it('finds nothing in values without null, and leaves a whole null value to the body parser and validators', () => {
    expect(findNulls({ a: 0, b: '', c: false, d: [], e: {}, f: new Date(0) }, '')).toEqual([]);
    expect(findNulls(null, '')).toEqual([]);
    expect(findNulls('text', 'q')).toEqual([]);
  });

  it('prefixes the root it is given', () => {
    expect(findNulls({ a: null }, 'options').map((f) => f.field)).toEqual(['options.a']);
  });
});
