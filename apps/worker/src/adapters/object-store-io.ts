import { Readable } from 'node:stream';
import type { ByteSource, ShardSink, ShardSource } from '@modelsmith/datasets';
import type { ObjectStore } from '@modelsmith/storage';

/** A dataset source object read piecewise with ranged GETs: whole-object reads stream, never buffer. */
export function objectByteSource(store: ObjectStore, key: string, size: number, name: string, contentType?: string): ByteSource {
  return {
    name,
    size,
    ...(contentType ? { contentType } : {}),
    openRange: async (start: number, end: number): Promise<Readable> => {
      if (end <= start) return Readable.from([]);
      if (start === 0 && end >= size) return store.getStream(key);
      return Readable.from([await store.getRange(key, start, end - start)]);
    },
  };
}

/** Shards, index and report written under their keys (the ingestion supplies full keys via keyPrefix). */
export function objectShardSink(store: ObjectStore): ShardSink {
  return {
    put: async (key, data) => {
      if (data instanceof Uint8Array) await store.putBytes(key, data);
      else await store.putStream(key, Readable.from(data as AsyncIterable<Uint8Array>));
    },
  };
}

export function objectShardSource(store: ObjectStore): ShardSource {
  return { get: async (key) => new Uint8Array(await store.getBytes(key)) };
}
