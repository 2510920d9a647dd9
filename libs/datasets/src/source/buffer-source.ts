import { Readable } from 'node:stream';
import type { ByteSource } from './byte-source';

const CHUNK = 64 * 1024;

/** A ByteSource over bytes already in memory (tests, small uploads). */
export function bufferSource(data: Uint8Array, name: string, contentType?: string): ByteSource {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    name,
    size: buf.length,
    contentType,
    openRange(start: number, end: number): Promise<Readable> {
      const slice = buf.subarray(start, Math.max(start, end));
      function* chunks(): Generator<Buffer> {
        for (let i = 0; i < slice.length; i += CHUNK) yield slice.subarray(i, i + CHUNK);
      }
      return Promise.resolve(Readable.from(chunks(), { objectMode: false }));
    },
  };
}
