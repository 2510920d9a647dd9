import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { IngestionError, isIngestionError } from '../errors';
import type { IngestionLimits } from '../limits';
import type { ByteSource } from '../source/byte-source';
import { SourceRandomAccessReader } from '../source/random-access-reader';
import { throwIfAborted } from '../util/abort';
import type { ArchiveFile, ArchiveListingEntry, ArchiveProgress, ArchiveReader } from './archive-types';
import { ByteBudget, entryGuard } from './byte-guard';
import { readCapped } from './read-capped';
import { OverlapDetector, zipEntryKind, zipEntryPath, zipRawName } from './zip-entry-checks';
import { errorMessage } from '../util/error-message';

function corrupt(source: ByteSource, err: unknown): IngestionError {
  if (isIngestionError(err)) return err;
  const msg = errorMessage(err);
  return new IngestionError('corrupt_archive', `"${source.name}" is not a readable zip archive: ${msg}`, {
    file: source.name,
  });
}

/** Errors raised by yauzl while inflating one entry, with the entry named. */
function entryError(path: string, err: Error): IngestionError {
  if (isIngestionError(err)) return err;
  if (/bytes in the stream/.test(err.message)) {
    return new IngestionError(
      'corrupt_archive',
      `"${path}" does not match its declared size: ${err.message}`,
      { file: path },
    );
  }
  return new IngestionError('corrupt_archive', `"${path}" could not be read: ${err.message}`, { file: path });
}

async function* iterateEntries(zip: ZipFile): AsyncGenerator<Entry> {
  for (;;) {
    const entry = await new Promise<Entry | null>((resolve, reject) => {
      const onEntry = (e: Entry): void => {
        cleanup();
        resolve(e);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(null);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const cleanup = (): void => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
      };
      zip.on('entry', onEntry);
      zip.on('end', onEnd);
      zip.on('error', onError);
      zip.readEntry();
    });
    if (entry === null) return;
    yield entry;
  }
}

/** Streams a zip from a random-access ByteSource with yauzl, enforcing the ingestion limits. */
export class ZipArchiveReader implements ArchiveReader {
  readonly container = 'zip' as const;
  private readonly readers: SourceRandomAccessReader[] = [];
  private uncompressed = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly limits: IngestionLimits,
  ) {}

  progress(): ArchiveProgress {
    const sourceBytes = this.readers.reduce((sum, r) => sum + r.bytesRead, 0);
    return { sourceBytes, uncompressedBytes: this.uncompressed };
  }

  private async open(): Promise<ZipFile> {
    const reader = new SourceRandomAccessReader(this.source);
    this.readers.push(reader);
    try {
      const zip = await yauzl.fromRandomAccessReaderPromise(reader, this.source.size, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false,
        validateEntrySizes: true,
      });
      if (zip.entryCount > this.limits.maxEntries) {
        zip.close();
        throw new IngestionError(
          'too_many_entries',
          `"${this.source.name}" has ${zip.entryCount} entries; at most ${this.limits.maxEntries} are allowed`,
          { file: this.source.name },
        );
      }
      return zip;
    } catch (err) {
      throw corrupt(this.source, err);
    }
  }

  /** Number of central-directory records (known up front for zip). */
  async entryCount(): Promise<number> {
    const zip = await this.open();
    const n = zip.entryCount;
    zip.close();
    return n;
  }

  async list(signal?: AbortSignal): Promise<ArchiveListingEntry[]> {
    const zip = await this.open();
    const out: ArchiveListingEntry[] = [];
    const overlaps = new OverlapDetector();
    const budget = new ByteBudget(this.limits);
    let declaredTotal = 0;
    try {
      for await (const entry of iterateEntries(zip)) {
        throwIfAborted(signal);
        const path = zipEntryPath(entry);
        const kind = zipEntryKind(entry, path, zipRawName(entry));
        if (kind === 'directory') {
          out.push({ path, kind, declaredSize: 0 });
          continue;
        }
        if (entry.uncompressedSize > this.limits.maxEntryBytes) {
          throw new IngestionError(
            'entry_too_large',
            `"${path}" declares ${entry.uncompressedSize} bytes; the per-file cap is ${this.limits.maxEntryBytes}`,
            { file: path },
          );
        }
        budget.checkRatio(entry.uncompressedSize, entry.compressedSize, path);
        declaredTotal += entry.uncompressedSize;
        if (declaredTotal > this.limits.maxTotalBytes) {
          throw new IngestionError(
            'archive_too_large',
            `"${this.source.name}" declares more than ${this.limits.maxTotalBytes} uncompressed bytes`,
            { file: this.source.name },
          );
        }
        overlaps.add(entry, path);
        out.push({ path, kind, declaredSize: entry.uncompressedSize });
      }
      overlaps.check();
    } catch (err) {
      throw corrupt(this.source, err);
    } finally {
      zip.close();
    }
    return out;
  }

  async readFile(path: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const zip = await this.open();
    const budget = new ByteBudget(this.limits);
    try {
      for await (const entry of iterateEntries(zip)) {
        throwIfAborted(signal);
        if (zipEntryPath(entry) !== path) continue;
        const stream = await zip.openReadStreamPromise(entry);
        const guard = entryGuard(budget, path, entry.compressedSize);
        stream.on('error', (err) => guard.destroy(entryError(path, err)));
        return await readCapped(stream.pipe(guard), maxBytes, path);
      }
    } catch (err) {
      throw corrupt(this.source, err);
    } finally {
      zip.close();
    }
    throw new IngestionError('corrupt_archive', `"${path}" is not in the archive`, { file: path });
  }

  async *files(signal?: AbortSignal): AsyncIterable<ArchiveFile> {
    const zip = await this.open();
    const budget = new ByteBudget(this.limits);
    let current: Readable | undefined;
    try {
      for await (const entry of iterateEntries(zip)) {
        throwIfAborted(signal);
        const path = zipEntryPath(entry);
        if (zipEntryKind(entry, path, zipRawName(entry)) !== 'file') continue;
        const raw = await zip.openReadStreamPromise(entry);
        const guard = entryGuard(budget, path, entry.compressedSize);
        raw.on('error', (err) => guard.destroy(entryError(path, err)));
        current = raw.pipe(guard);
        yield { path, stream: current };
        if (!current.readableEnded) {
          // Not read by the caller (e.g. skipped): stop inflating it.
          raw.unpipe(guard);
          raw.destroy();
          current.destroy();
        }
        current = undefined;
        this.uncompressed = budget.uncompressed;
      }
    } catch (err) {
      throw corrupt(this.source, err);
    } finally {
      current?.destroy();
      zip.close();
    }
  }
}
