import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteSource } from './byte-source';

/** A ByteSource over a local file. */
export async function fileSource(
  path: string,
  options: { name?: string; contentType?: string } = {},
): Promise<ByteSource> {
  const info = await stat(path);
  return {
    name: options.name ?? basename(path),
    size: info.size,
    contentType: options.contentType,
    openRange(start: number, end: number): Promise<Readable> {
      if (end <= start) return Promise.resolve(createReadStream(path, { start: 0, end: -1 }));
      return Promise.resolve(createReadStream(path, { start, end: end - 1 }));
    },
  };
}
