import sharp from 'sharp';
import { sniffImageFormat } from './image-format';

describe('sniffImageFormat', () => {
  const base = () =>
    sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 99, b: 199 } } });

  it.each([
    ['jpeg', () => base().jpeg()],
    ['png', () => base().png()],
    ['webp', () => base().webp()],
    ['gif', () => base().gif()],
    ['tiff', () => base().tiff()],
    ['tiff', () => base().tiff({ bigtiff: false, compression: 'lzw' })],
    ['heif', () => base().avif()],
  ] as const)('names what sharp encoded as %s the way sharp reads it', async (format, encode) => {
    const bytes = await encode().toBuffer();
    expect(sniffImageFormat(bytes)).toBe(format);
    expect((await sharp(bytes).metadata()).format).toBe(format);
  });

  it('recognizes big-endian TIFF and a HEIF brand listed only among compatible brands', () => {
    expect(sniffImageFormat(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toBe('tiff');
    const ftyp = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypXXXX\0\0\0\0isommif1')]);
    expect(sniffImageFormat(ftyp)).toBe('heif');
  });

  it('refuses everything else, including formats libvips could read', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 20]), Buffer.from('ftypisom\0\0\0\0mp41')]);
    const pdf = Buffer.from('%PDF-1.7\n');
    const raw = await base().raw().toBuffer();
    for (const bytes of [
      svg,
      mp4,
      pdf,
      raw,
      Buffer.alloc(0),
      Buffer.from([0xff, 0xd8]),
      Buffer.from('GIF88a'),
    ]) {
      expect(sniffImageFormat(bytes)).toBeNull();
    }
  });
});
