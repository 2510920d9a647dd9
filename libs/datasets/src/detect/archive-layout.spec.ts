import type { ArchiveListingEntry } from '../archive/archive-types';
import { archiveLayout } from './archive-layout';

const files = (...paths: string[]): ArchiveListingEntry[] =>
  paths.map((path) => ({ path, kind: 'file', declaredSize: 1 }));

describe('archiveLayout', () => {
  it('finds class folders at the root', () => {
    expect(archiveLayout(files('cats/a.png', 'dogs/b.png'))).toEqual({ root: '', labelsCsv: null });
  });

  it('strips one or more wrapping folders', () => {
    expect(archiveLayout(files('data/cats/a.png', 'data/dogs/b.png'))).toEqual({
      root: 'data/',
      labelsCsv: null,
    });
    expect(archiveLayout(files('x/y/cats/a.png', 'x/y/dogs/b.png', '__MACOSX/x/._y'))).toEqual({
      root: 'x/y/',
      labelsCsv: null,
    });
  });

  it('does not strip a single class folder', () => {
    expect(archiveLayout(files('cats/a.png', 'cats/b.png'))).toEqual({ root: '', labelsCsv: null });
  });

  it('finds labels.csv at the root or inside the wrapping folder', () => {
    expect(archiveLayout(files('labels.csv', 'img/a.png'))).toEqual({ root: '', labelsCsv: 'labels.csv' });
    expect(archiveLayout(files('ds/Labels.CSV', 'ds/img/a.png', 'ds/b.png'))).toEqual({
      root: 'ds/',
      labelsCsv: 'ds/Labels.CSV',
    });
    expect(archiveLayout(files('cats/labels.csv', 'cats/a.png', 'dogs/b.png'))).toEqual({
      root: '',
      labelsCsv: null,
    });
  });
});
