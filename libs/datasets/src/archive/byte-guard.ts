import { Transform, type TransformCallback } from 'node:stream';
import { IngestionError } from '../errors';
import type { IngestionLimits } from '../limits';

/** Running totals shared by every entry of one archive pass. */
export class ByteBudget {
  uncompressed = 0;

  constructor(readonly limits: IngestionLimits) {}

  /** Counts `n` more uncompressed bytes; throws once the archive-wide cap is passed. */
  add(n: number, file: string): void {
    this.uncompressed += n;
    if (this.uncompressed > this.limits.maxTotalBytes) {
      throw new IngestionError(
        'archive_too_large',
        `archive expands to more than ${this.limits.maxTotalBytes} bytes (stopped at "${file}")`,
        { file },
      );
    }
  }

  /** Throws when `out` bytes produced from `compressed` bytes exceed the compression-ratio cap. */
  checkRatio(out: number, compressed: number, file: string): void {
    if (out <= this.limits.ratioGraceBytes) return;
    if (out > this.limits.maxCompressionRatio * Math.max(compressed, 1)) {
      throw new IngestionError(
        'compression_ratio_exceeded',
        `"${file}" expands ${Math.round(out / Math.max(compressed, 1))}x, more than the allowed ${this.limits.maxCompressionRatio}x (zip bomb?)`,
        { file },
      );
    }
  }
}

/**
 * Counts one entry's bytes as they stream and enforces the per-entry size cap, the per-entry
 * compression ratio (when the compressed size is known) and the archive-wide total.
 */
export function entryGuard(budget: ByteBudget, file: string, compressedSize: number | undefined): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      seen += chunk.length;
      try {
        if (seen > budget.limits.maxEntryBytes) {
          throw new IngestionError(
            'entry_too_large',
            `"${file}" is larger than the per-file cap of ${budget.limits.maxEntryBytes} bytes`,
            { file },
          );
        }
        if (compressedSize !== undefined) budget.checkRatio(seen, compressedSize, file);
        budget.add(chunk.length, file);
      } catch (err) {
        done(err as Error);
        return;
      }
      done(null, chunk);
    },
  });
}
