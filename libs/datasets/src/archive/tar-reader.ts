import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Extract, type Header } from 'tar-stream';
import { IngestionError, isIngestionError } from '../errors';
import type { IngestionLimits } from '../limits';
import type { ByteSource } from '../source/byte-source';
import { throwIfAborted } from '../util/abort';
import type {
  ArchiveFile,
  ArchiveListingEntry,
  ArchiveProgress,
  ArchiveReader,
  EntryKind,
} from './archive-types';
import { ByteBudget, entryGuard } from './byte-guard';
import { safeEntryPath } from './path-safety';
import { readCapped } from './read-capped';
import { asError, errorMessage } from '../util/error-message';

function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      try {
        onBytes(chunk.length);
      } catch (err) {
        done(err as Error);
        return;
      }
      done(null, chunk);
    },
  });
}

type Entry = Extract extends AsyncIterable<infer T> ? T : never;

function tarKind(header: Header, path: string): EntryKind {
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
    case 'link':
      throw new IngestionError('symlink_entry', `archive entry "${path}" is a link; links are not allowed`, {
        file: path,
      });
    case 'character-device':
    case 'block-device':
    case 'fifo':
      throw new IngestionError(
        'unsupported_entry_type',
        `archive entry "${path}" is not a regular file or folder (${header.type})`,
        { file: path },
      );
  }
  // Unknown type flags (tar-stream reports them as null) are not trusted either.
  throw new IngestionError(
    'unsupported_entry_type',
    `archive entry "${path}" has an unknown tar entry type`,
    { file: path },
  );
}

interface TarItem {
  entry: Entry;
  next: (err?: Error | null) => void;
  ended: boolean;
}

/**
 * One sequential pass over the archive: source -> gunzip (ratio-checked) -> tar extract. Entries
 * are handed out one at a time; the next is only parsed once the previous one was drained.
 */
class TarPass {
  private readonly queue: TarItem[] = [];
  private failed: unknown = null;
  private finished = false;
  private wake: (() => void) | null = null;
  private readonly owned: { destroy(): void }[] = [];

  constructor(private readonly ex: Extract) {
    ex.on('entry', (_header, entry, next) => {
      const item: TarItem = { entry, next, ended: false };
      entry.once('end', () => {
        item.ended = true;
      });
      this.queue.push(item);
      this.notify();
    });
    ex.on('finish', () => {
      this.finished = true;
      this.notify();
    });
    ex.on('error', (err: unknown) => this.fail(err));
  }

  fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = err;
    // Destroying the extract also destroys the entry being read, so no reader waits forever.
    this.ex.destroy(asError(err));
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *items(): AsyncGenerator<TarItem> {
    for (;;) {
      if (this.failed !== null) throw asError(this.failed);
      const item = this.queue.shift();
      if (item) {
        yield item;
        await drain(item);
        if (this.failed !== null) throw asError(this.failed);
        item.next();
        continue;
      }
      if (this.finished) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Streams feeding the extract, destroyed with it (a paused file stream would keep its fd). */
  own(...streams: { destroy(): void }[]): void {
    this.owned.push(...streams);
  }

  abort(): void {
    this.ex.destroy();
    for (const s of this.owned) s.destroy();
  }
}

async function drain(item: TarItem): Promise<void> {
  if (item.ended) return;
  await new Promise<void>((resolve) => {
    item.entry.once('end', () => resolve());
    item.entry.once('close', () => resolve());
    item.entry.resume();
  });
}

/** Streams a gzip-compressed tar from a ByteSource in one sequential read per pass. */
export class TarGzArchiveReader implements ArchiveReader {
  readonly container = 'tar.gz' as const;
  private sourceBytes = 0;
  private uncompressed = 0;
  private readonly captured = new Map<string, Buffer>();

  constructor(
    private readonly source: ByteSource,
    private readonly limits: IngestionLimits,
    /** Files to keep in memory during the listing pass (e.g. `labels.csv`). */
    private readonly capture: (path: string) => boolean = () => false,
  ) {}

  progress(): ArchiveProgress {
    return { sourceBytes: this.sourceBytes, uncompressedBytes: this.uncompressed };
  }

  private async pass(budget: ByteBudget): Promise<TarPass> {
    this.sourceBytes = 0;
    let compressed = 0;
    let out = 0;
    const input = await this.source.openRange(0, this.source.size);
    const ex = extract();
    const pass = new TarPass(ex);
    const sourceCounter = counter((n) => {
      compressed += n;
      this.sourceBytes = compressed;
    });
    const gunzip = createGunzip();
    const ratioGuard = counter((n) => {
      out += n;
      budget.checkRatio(out, compressed, this.source.name);
    });
    pass.own(input, sourceCounter, gunzip, ratioGuard);
    for (const s of [input, sourceCounter, gunzip, ratioGuard]) s.on('error', (err) => pass.fail(err));
    input.pipe(sourceCounter).pipe(gunzip).pipe(ratioGuard);
    pipeline(ratioGuard, ex as unknown as NodeJS.WritableStream).catch((err: unknown) => pass.fail(err));
    return pass;
  }

  private wrap(err: unknown): IngestionError {
    if (isIngestionError(err)) return err;
    const msg = errorMessage(err);
    return new IngestionError(
      'corrupt_archive',
      `"${this.source.name}" is not a readable tar.gz archive: ${msg}`,
      { file: this.source.name },
    );
  }

  private async *walk(
    signal: AbortSignal | undefined,
  ): AsyncGenerator<{ path: string; kind: EntryKind; entry: Entry; budget: ByteBudget }> {
    const budget = new ByteBudget(this.limits);
    const pass = await this.pass(budget);
    let count = 0;
    try {
      for await (const { entry } of pass.items()) {
        throwIfAborted(signal);
        count += 1;
        if (count > this.limits.maxEntries) {
          throw new IngestionError(
            'too_many_entries',
            `"${this.source.name}" has more than ${this.limits.maxEntries} entries`,
            { file: this.source.name },
          );
        }
        const path = safeEntryPath(entry.header.name);
        const kind = tarKind(entry.header, path);
        yield { path, kind, entry, budget };
        this.uncompressed = budget.uncompressed;
      }
    } catch (err) {
      throw this.wrap(err);
    } finally {
      pass.abort();
    }
  }

  /** The entry's bytes as a Node stream, size-checked, with read errors named after the entry. */
  private entryStream(entry: Entry, budget: ByteBudget, path: string): Readable {
    const guard = entryGuard(budget, path, undefined);
    const raw = Readable.from(entry);
    raw.on('error', (err) => guard.destroy(this.wrap(err)));
    return raw.pipe(guard);
  }

  async list(signal?: AbortSignal): Promise<ArchiveListingEntry[]> {
    const out: ArchiveListingEntry[] = [];
    for await (const { path, kind, entry, budget } of this.walk(signal)) {
      const declaredSize = entry.header.size ?? 0;
      if (kind === 'file' && declaredSize > this.limits.maxEntryBytes) {
        throw new IngestionError(
          'entry_too_large',
          `"${path}" declares ${declaredSize} bytes; the per-file cap is ${this.limits.maxEntryBytes}`,
          { file: path },
        );
      }
      if (kind === 'file' && this.capture(path)) {
        const stream = this.entryStream(entry, budget, path);
        this.captured.set(path, await readCapped(stream, this.limits.maxLabelsCsvBytes, path));
      } else {
        for await (const _ of this.entryStream(entry, budget, path)) void _;
      }
      out.push({ path, kind, declaredSize: kind === 'file' ? declaredSize : 0 });
    }
    return out;
  }

  async readFile(path: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const cached = this.captured.get(path);
    if (cached) {
      if (cached.length > maxBytes)
        throw new IngestionError('entry_too_large', `"${path}" is larger than ${maxBytes} bytes`, {
          file: path,
        });
      return cached;
    }
    for await (const { path: p, kind, entry, budget } of this.walk(signal)) {
      if (kind !== 'file' || p !== path) continue;
      return readCapped(this.entryStream(entry, budget, p), maxBytes, p);
    }
    throw new IngestionError('corrupt_archive', `"${path}" is not in the archive`, { file: path });
  }

  async *files(signal?: AbortSignal): AsyncIterable<ArchiveFile> {
    for await (const { path, kind, entry, budget } of this.walk(signal)) {
      if (kind !== 'file') continue;
      const stream = this.entryStream(entry, budget, path);
      yield { path, stream };
      if (!stream.readableEnded) {
        stream.resume();
        await new Promise<void>((resolve) => {
          stream.once('end', resolve);
          stream.once('close', resolve);
          stream.once('error', () => resolve());
        });
      }
    }
  }
}
