import { gzipSync } from 'node:zlib';
import { buildTarGz, buildZip } from '../../test-utils/archives';
import { IngestionError } from '../errors';
import { bufferSource } from '../source/buffer-source';
import { checkContentType, sniffContainer } from './sniff-container';

const sniff = (data: Buffer | string, name: string): Promise<string> =>
  sniffContainer(bufferSource(Buffer.from(data), name));

describe('sniffContainer', () => {
  it('detects by magic bytes, not by name', async () => {
    expect(await sniff(await buildZip([{ path: 'a/b.png', data: 'x' }]), 'upload.bin')).toBe('zip');
    expect(await sniff(await buildTarGz([{ path: 'a/b.png', data: 'x' }]), 'upload.zip')).toBe('tar.gz');
    expect(await sniff('text,label\nhi,a\n', 'upload')).toBe('csv');
    expect(await sniff('{"text":"hi","label":"a"}\n', 'upload')).toBe('jsonl');
    expect(await sniff('\uFEFF  {"text":"hi"}', 'upload.txt')).toBe('jsonl');
    expect(await sniff('{"a":1}', 'odd.csv')).toBe('csv');
  });

  it('rejects binary that is not an archive, and gzip without tar', async () => {
    await expect(
      sniff(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'a.png'),
    ).rejects.toMatchObject({ code: 'unknown_format' });
    await expect(sniff(gzipSync('hello world'), 'a.gz')).rejects.toMatchObject({ code: 'unknown_format' });
    await expect(sniff('', 'a.zip')).rejects.toMatchObject({ code: 'empty_archive' });
  });

  it('checks a declared content type against the detected container', () => {
    const src = (contentType: string): ReturnType<typeof bufferSource> =>
      bufferSource(Buffer.from('x'), 'f', contentType);
    expect(() => checkContentType(src('application/zip'), 'zip')).not.toThrow();
    expect(() => checkContentType(src('application/octet-stream'), 'tar.gz')).not.toThrow();
    expect(() => checkContentType(src('text/csv; charset=utf-8'), 'csv')).not.toThrow();
    expect(() => checkContentType(src('image/png'), 'zip')).toThrow(IngestionError);
    expect(() => checkContentType(src('application/zip'), 'csv')).toThrow(
      /was sent as application\/zip but its content is csv/,
    );
  });
});
