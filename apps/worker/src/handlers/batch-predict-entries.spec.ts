import { archiveFiles, bufferSource, openArchive } from '@modelsmith/datasets';
import { buildTarGz, buildZip } from '../../../../libs/datasets/test-utils/archives';
import { isSkippedEntry } from './batch-predict-output';

const png = Buffer.from('89504e470d0a1a0a', 'hex');

/** What a batch job sees of an archive: the files it predicts, and the count it reports progress against. */
async function predicted(archive: Buffer, name: string): Promise<{ paths: string[]; counted: number }> {
  const reader = await openArchive(bufferSource(archive, name), { maxEntryBytes: 1024 });
  const counted = (await reader.list()).filter((e) => e.kind === 'file' && !isSkippedEntry(e.path)).length;
  const paths: string[] = [];
  for await (const f of archiveFiles(reader, 1024)) paths.push(f.path);
  return { paths, counted };
}

describe('batch prediction entry filtering', () => {
  it('skips archiver junk and hidden files, keeps every other file whatever its folder or extension', () => {
    for (const skipped of [
      '__MACOSX/photos/._a.png',
      '__MACOSX/x',
      'a/.DS_Store',
      '._a.png',
      'photos/.hidden.png',
      'Thumbs.db',
      'a/b/Thumbs.db',
    ]) {
      expect([skipped, isSkippedEntry(skipped)]).toEqual([skipped, true]);
    }
    for (const kept of [
      'a.png',
      'photos/cats/1.JPG',
      'deep/er/notes.txt',
      'MACOSX/a.png',
      'a.b/c.png',
      'x/__MACOSX/a.png',
    ]) {
      expect([kept, isSkippedEntry(kept)]).toEqual([kept, false]);
    }
  });

  const layout = [
    { path: 'photos/', data: '' },
    { path: 'photos/a/1.png', data: png },
    { path: 'photos/b/2.png', data: png },
    { path: 'photos/.hidden.png', data: 'hidden' },
    { path: 'photos/.DS_Store', data: 'finder' },
    { path: '__MACOSX/photos/._1.png', data: 'fork' },
    { path: 'readme.txt', data: 'not an image, still predicted (and reported as an error)' },
  ];
  const expected = ['photos/a/1.png', 'photos/b/2.png', 'readme.txt'];

  it('reads a zip in archive order, skipping directories and junk, and counts what it will predict', async () => {
    expect(await predicted(await buildZip(layout), 'in.zip')).toEqual({
      paths: expected,
      counted: expected.length,
    });
  });

  it('reads a tar.gz the same way', async () => {
    const tar = await buildTarGz(
      layout.map((f) => (f.path.endsWith('/') ? { path: f.path, type: 'directory' as const } : f)),
    );
    expect(await predicted(tar, 'in.tar.gz')).toEqual({ paths: expected, counted: expected.length });
  });
});
