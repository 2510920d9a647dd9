import { sourceFileName } from './source-file-name';

describe('sourceFileName', () => {
  it('keeps plain names', () => {
    expect(sourceFileName('digits.zip')).toBe('digits.zip');
    expect(sourceFileName('my data (v2).tar.gz')).toBe('my data _v2_.tar.gz');
  });

  it('drops directories, traversal and leading dots', () => {
    expect(sourceFileName('../../etc/passwd')).toBe('passwd');
    expect(sourceFileName('C:\\Users\\x\\..\\a.zip')).toBe('a.zip');
    expect(sourceFileName('...hidden..zip')).toBe('hidden.zip');
  });

  it('never returns an empty name', () => {
    expect(sourceFileName('')).toBe('upload.bin');
    expect(sourceFileName('/')).toBe('upload.bin');
  });
});
