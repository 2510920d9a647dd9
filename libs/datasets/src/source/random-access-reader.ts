import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RandomAccessReader } from 'yauzl';
import { asError } from '../util/error-message';
import { readRange, type ByteSource } from './byte-source';

const DEFAULT_BLOCK = 256 * 1024;
/** yauzl alternates between the central directory (at the end) and local headers: keep a few blocks. */
const MAX_BLOCKS = 4;

interface Block {
  start: number;
  data: Buffer;
}

/**
 * Lets yauzl read a zip from any ByteSource (local file, ranged GETs on an object store).
 *
 * yauzl reads the central directory and every local header with many tiny reads; each would be a
 * separate ranged request. A few read-ahead blocks (256 KiB each, least recently filled evicted)
 * serve them, and entry data that lies inside a cached block, so a zip of small images costs about
 * one request per block. Larger ranges stream straight from the source. Memory: 4 blocks.
 */
export class SourceRandomAccessReader extends RandomAccessReader {
  /** Bytes fetched from the source so far (for progress). */
  bytesRead = 0;
  private blocks: Block[] = [];

  constructor(
    private readonly source: ByteSource,
    private readonly blockSize = DEFAULT_BLOCK,
  ) {
    super();
  }

  private cached(start: number, end: number): Buffer | null {
    for (const b of this.blocks) {
      if (start >= b.start && end <= b.start + b.data.length)
        return b.data.subarray(start - b.start, end - b.start);
    }
    return null;
  }

  private async fill(start: number, end: number): Promise<Buffer> {
    const stop = Math.min(this.source.size, Math.max(end, start + this.blockSize));
    const data = await readRange(this.source, start, stop);
    this.bytesRead += data.length;
    this.blocks.push({ start, data });
    if (this.blocks.length > MAX_BLOCKS) this.blocks.shift();
    return data.subarray(0, end - start);
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    const hit = this.cached(position, position + length);
    if (hit) {
      hit.copy(buffer, offset);
      callback(null);
      return;
    }
    const fetch =
      length <= this.blockSize
        ? this.fill(position, position + length)
        : readRange(this.source, position, position + length);
    fetch
      .then((data) => {
        if (data.length < length)
          throw new Error(`unexpected end of "${this.source.name}" at byte ${position + data.length}`);
        if (length > this.blockSize) this.bytesRead += data.length;
        data.copy(buffer, offset, 0, length);
        callback(null);
      })
      .catch((err: unknown) => callback(asError(err)));
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const hit = this.cached(start, end);
    if (hit) return Readable.from([Buffer.from(hit)]);
    if (end - start <= this.blockSize / 4) {
      // A small entry past the block: read ahead so the next entries come from memory too.
      const out = new Readable({ read: () => undefined });
      this.fill(start, end)
        .then((data) => {
          out.push(Buffer.from(data));
          out.push(null);
        })
        .catch((err: unknown) => out.destroy(asError(err)));
      return out;
    }
    const out = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void => {
        this.bytesRead += chunk.length;
        done(null, chunk);
      },
    });
    this.source
      .openRange(start, end)
      .then((input) => pipeline(input, out))
      .catch((err: unknown) => out.destroy(asError(err)));
    return out;
  }
}
