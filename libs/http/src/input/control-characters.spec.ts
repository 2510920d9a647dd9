import { findUnsafeCharacter, findUnsafeStrings } from './control-characters';

describe('findUnsafeCharacter', () => {
  it('passes ordinary text, including non-Latin scripts and emoji (surrogate pairs)', () => {
    for (const s of [
      '',
      'digits-prod',
      'Flowers v2 (clean)',
      'ünïcödé',
      '日本語',
      'smile 🌸',
      'a\u00a0b',
      'tab-less',
    ]) {
      expect(findUnsafeCharacter(s)).toBeNull();
    }
  });

  it('finds NUL and every other C0 control, DEL and C1 controls, with their position', () => {
    expect(findUnsafeCharacter('ab\u0000c')).toEqual({ index: 2, codePoint: 'U+0000' });
    for (let c = 0; c < 0x20; c++) expect(findUnsafeCharacter(`x${String.fromCharCode(c)}`)?.index).toBe(1);
    expect(findUnsafeCharacter('\u007f')?.codePoint).toBe('U+007F');
    expect(findUnsafeCharacter('a\u0085')?.codePoint).toBe('U+0085');
    expect(findUnsafeCharacter('a\u009f')?.codePoint).toBe('U+009F');
    expect(findUnsafeCharacter('\u00a0')).toBeNull();
  });

  it('allows tab, line feed and carriage return only in free text', () => {
    expect(findUnsafeCharacter('line one\nline two\r\n\tindented')).toEqual({
      index: 8,
      codePoint: 'U+000A',
    });
    expect(findUnsafeCharacter('line one\nline two\r\n\tindented', true)).toBeNull();
    expect(findUnsafeCharacter('still\u0000no', true)?.codePoint).toBe('U+0000');
    expect(findUnsafeCharacter('no\u000bvertical tab', true)?.codePoint).toBe('U+000B');
  });

  it('finds unpaired surrogates (Postgres cannot store them as sent)', () => {
    expect(findUnsafeCharacter('a\ud800')).toEqual({ index: 1, codePoint: 'U+D800' });
    expect(findUnsafeCharacter('\udc00b')).toEqual({ index: 0, codePoint: 'U+DC00' });
    expect(findUnsafeCharacter('\ud83c\udf38\ud800x')?.index).toBe(2);
  });
});

describe('findUnsafeStrings', () => {
  it('names every offending field by its path, nested objects and arrays included', () => {
    const found = findUnsafeStrings(
      { name: 'ok', config: { label: 'a\u0000' }, scopes: ['READ', 'x\u0001'], n: 3, when: new Date() },
      '',
    );
    expect(found.map((f) => f.field)).toEqual(['config.label', 'scopes.1']);
    expect(found[0].messages[0]).toContain('U+0000');
  });

  it('checks member names too, and roots path parameters and queries at their name', () => {
    expect(findUnsafeStrings({ ['bad\u0000key']: 1 }, '')[0].messages[0]).toContain('member name');
    expect(findUnsafeStrings('abc\u0000', 'id')).toEqual([
      { field: 'id', messages: [expect.stringContaining('U+0000')] },
    ]);
    expect(findUnsafeStrings('fine', 'id')).toEqual([]);
  });

  it('lets the caller allow multi-line text for some fields only', () => {
    const body = { description: 'two\nlines', name: 'two\nlines', nested: { description: 'two\nlines' } };
    const found = findUnsafeStrings(body, '', (path) => path === 'description');
    expect(found.map((f) => f.field)).toEqual(['name', 'nested.description']);
  });

  it('refuses values nested beyond its walk limit instead of recursing without end', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const found = findUnsafeStrings(deep, '');
    expect(found).toHaveLength(1);
    expect(found[0].messages[0]).toContain('nested deeper');
  });
});
