import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ShardSink, ShardSource } from './shard-sink';

/** A ShardSink + ShardSource on a local directory. Writes are atomic (temp file + rename). */
export class FsShardStore implements ShardSink, ShardSource {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const full = resolve(join(this.root, key));
    if (!full.startsWith(this.root + sep)) throw new Error(`shard key "${key}" escapes the store root`);
    return full;
  }

  async put(key: string, data: Uint8Array | NodeJS.ReadableStream): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    if (data instanceof Uint8Array) await writeFile(tmp, data);
    else await pipeline(Readable.from(data), createWriteStream(tmp));
    await rename(tmp, target);
  }

  async get(key: string): Promise<Uint8Array> {
    return readFile(this.pathOf(key));
  }
}
