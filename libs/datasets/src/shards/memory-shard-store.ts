import { Readable } from 'node:stream';
import type { ShardSink, ShardSource } from './shard-sink';

async function collect(data: Uint8Array | NodeJS.ReadableStream): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  const chunks: Buffer[] = [];
  for await (const chunk of Readable.from(data)) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

/** An in-memory ShardSink + ShardSource (tests, small datasets). */
export class MemoryShardStore implements ShardSink, ShardSource {
  readonly objects = new Map<string, Uint8Array>();

  async put(key: string, data: Uint8Array | NodeJS.ReadableStream): Promise<void> {
    this.objects.set(key, await collect(data));
  }

  async get(key: string): Promise<Uint8Array> {
    const found = this.objects.get(key);
    if (!found) throw new Error(`no object "${key}" in the memory shard store`);
    return found;
  }

  keys(): string[] {
    return [...this.objects.keys()].sort();
  }
}
