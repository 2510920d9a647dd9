import type { Readable } from 'node:stream';
import { IngestionError } from '../errors';

/** Reads a stream into memory, failing once it passes maxBytes. */
export async function readCapped(stream: Readable, maxBytes: number, file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new IngestionError('entry_too_large', `"${file}" is larger than ${maxBytes} bytes`, { file });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
