import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsShardStore } from './fs-shard-store';
import { MemoryShardStore } from './memory-shard-store';
import type { ImageShardIndex } from './shard-index';
import { readShards } from './shard-reader';
import { BinaryShardWriter, JsonlShardWriter } from './shard-writer';

describe('shard stores, writers and reader', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'datasets-shards-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores buffers and streams; the filesystem store refuses keys outside its root', async () => {
    for (const store of [new MemoryShardStore(), new FsShardStore(dir)]) {
      await store.put('a/b.bin', new Uint8Array([1, 2, 3]));
      await store.put('a/c.bin', Readable.from([Buffer.from([4, 5]), Buffer.from([6])]));
      expect(Array.from(await store.get('a/b.bin'))).toEqual([1, 2, 3]);
      expect(Array.from(await store.get('a/c.bin'))).toEqual([4, 5, 6]);
      await expect(store.get('a/missing.bin')).rejects.toThrow();
    }
    await expect(new FsShardStore(dir).put('../escape.bin', new Uint8Array([1]))).rejects.toThrow(
      /escapes the store root/,
    );
    expect((await readdir(join(dir, 'a'))).sort()).toEqual(['b.bin', 'c.bin']);
  });

  it('packs fixed-size records into shards of N and reads a split back in order and in batches', async () => {
    const store = new MemoryShardStore();
    const writer = new BinaryShardWriter(store, 'shards/images-', 2, 3);
    const positions = [];
    for (let i = 0; i < 7; i++) positions.push(await writer.add(new Uint8Array([i, 100 + i])));
    await writer.flush();
    expect(writer.files).toEqual([
      { key: 'shards/images-00000.bin', count: 3 },
      { key: 'shards/images-00001.bin', count: 3 },
      { key: 'shards/images-00002.bin', count: 1 },
    ]);
    expect(positions[4]).toEqual({ shard: 1, offset: 1 });
    await expect(writer.add(new Uint8Array([1]))).rejects.toThrow(/expected 2/);

    const index: ImageShardIndex = {
      version: 1,
      kind: 'image',
      height: 1,
      width: 2,
      channels: 1,
      recordBytes: 2,
      labels: ['even', 'odd'],
      shards: writer.files,
      samples: positions.map((p, i) => ({
        ...p,
        label: i % 2,
        split: i === 3 ? 'test' : 'train',
        hash: `h${i}`,
        path: `p${i}`,
      })),
    };
    const batches = [];
    for await (const b of readShards(store, { split: 'train', batch: 4, index })) batches.push(b);
    expect(batches.map((b) => b.count)).toEqual([4, 2]);
    expect(Array.from(batches[0].pixels)).toEqual([0, 100, 1, 101, 2, 102, 4, 104]);
    expect(Array.from(batches[1].labels)).toEqual([1, 0]);
    expect(batches[1].shape).toEqual([2, 1, 2, 1]);
  });

  it('writes JSON-lines shards', async () => {
    const store = new MemoryShardStore();
    const writer = new JsonlShardWriter(store, 'r-', 2);
    for (const text of ['a', 'b', 'c']) await writer.add({ text });
    await writer.flush();
    expect(Buffer.from(await store.get('r-00001.jsonl')).toString()).toBe('{"text":"c"}\n');
  });
});
