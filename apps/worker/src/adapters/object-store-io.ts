import { Readable } from 'node:stream';
import type { ByteSource, ShardSink, ShardSource } from '@modelsmith/datasets';
import {
  SlottedCheckpointStore,
  type ArtifactReader,
  type ArtifactWriter,
  type CheckpointStore,
} from '@modelsmith/ml';
import { keys, objectBytesReader, StorageError, type ObjectStore } from '@modelsmith/storage';

/** A ByteSource over an object, remembering the first time the object store failed to deliver it. */
export interface ObjectByteSource extends ByteSource {
  /**
   * The first error the object store raised while this source was read (a failed GET, a stream that
   * broke mid-way), if any. Archive readers report such an error as an unreadable archive; a caller
   * that sees one here knows the storage failed, not the file.
   */
  readonly storageFailure: Error | undefined;
}

/** A dataset source object read piecewise with ranged GETs: whole-object reads stream, never buffer. */
export function objectByteSource(
  store: ObjectStore,
  key: string,
  size: number,
  name: string,
  contentType?: string,
): ObjectByteSource {
  let failure: Error | undefined;
  const record = (e: unknown): Error => {
    const err = e instanceof Error ? e : new Error(String(e));
    failure ??= err;
    return err;
  };
  return {
    name,
    size,
    ...(contentType ? { contentType } : {}),
    get storageFailure() {
      return failure;
    },
    openRange: async (start: number, end: number): Promise<Readable> => {
      if (end <= start) return Readable.from([]);
      try {
        if (start === 0 && end >= size) {
          const stream = await store.getStream(key);
          stream.on('error', record);
          return stream;
        }
        return Readable.from([await store.getRange(key, start, end - start)]);
      } catch (e) {
        throw record(e);
      }
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
  return objectBytesReader(store);
}

/**
 * Training checkpoints of one job in the object store (`keys.jobCheckpoint`), in two alternating
 * sealed slots (`<key>.0.ckpt`, `<key>.1.ckpt`): a worker killed while uploading one leaves the other intact.
 */
export function objectCheckpointStore(store: ObjectStore, tenantId: string, jobId: string): CheckpointStore {
  const keyOf = (key: string) => keys.jobCheckpoint(tenantId, jobId, `${key}.ckpt`);
  return new SlottedCheckpointStore({
    put: async (key, data) => {
      await store.putBytes(keyOf(key), data, 'application/octet-stream');
    },
    get: async (key) => {
      try {
        return new Uint8Array(await store.getBytes(keyOf(key)));
      } catch (e) {
        if (e instanceof StorageError && e.code === 'OBJECT_NOT_FOUND') return null;
        throw e;
      }
    },
  });
}

export function objectArtifactWriter(store: ObjectStore): ArtifactWriter {
  return { put: async (key, data, contentType) => void (await store.putBytes(key, data, contentType)) };
}

export function objectArtifactReader(store: ObjectStore): ArtifactReader {
  return objectBytesReader(store);
}
