import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RandomAccessReader } from 'yauzl';
import type { ByteSource } from './byte-source';
import { asError } from '../util/error-message';

/** Lets yauzl read a zip from any ByteSource (local file, ranged GETs on an object store). */
export class SourceRandomAccessReader extends RandomAccessReader {
  /** Compressed bytes handed to yauzl so far (for progress). */
  bytesRead = 0;

  constructor(private readonly source: ByteSource) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
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
