import type { ShardFile } from './shard-index';
import type { ShardSink } from './shard-sink';

export interface ShardPosition {
  shard: number;
  offset: number;
}

/** Packs fixed-size uint8 records into shards of N records; memory holds one shard at most. */
export class BinaryShardWriter {
  private buffer: Uint8Array;
  private count = 0;
  readonly files: ShardFile[] = [];

  constructor(
    private readonly sink: ShardSink,
    private readonly keyPrefix: string,
    private readonly recordBytes: number,
    private readonly perShard: number,
  ) {
    this.buffer = new Uint8Array(recordBytes * perShard);
  }

  async add(record: Uint8Array): Promise<ShardPosition> {
    if (record.length !== this.recordBytes)
      throw new Error(`record has ${record.length} bytes, expected ${this.recordBytes}`);
    this.buffer.set(record, this.count * this.recordBytes);
    const pos = { shard: this.files.length, offset: this.count };
    this.count += 1;
    if (this.count === this.perShard) await this.flush();
    return pos;
  }

  async flush(): Promise<void> {
    if (this.count === 0) return;
    const key = `${this.keyPrefix}${String(this.files.length).padStart(5, '0')}.bin`;
    const data =
      this.count === this.perShard ? this.buffer : this.buffer.slice(0, this.count * this.recordBytes);
    this.files.push({ key, count: this.count });
    this.count = 0;
    this.buffer = new Uint8Array(this.recordBytes * this.perShard);
    await this.sink.put(key, data);
  }
}

/** Packs JSON records into JSON-lines shards of N records. */
export class JsonlShardWriter {
  private lines: string[] = [];
  readonly files: ShardFile[] = [];

  constructor(
    private readonly sink: ShardSink,
    private readonly keyPrefix: string,
    private readonly perShard: number,
  ) {}

  async add(record: unknown): Promise<ShardPosition> {
    this.lines.push(JSON.stringify(record));
    const pos = { shard: this.files.length, offset: this.lines.length - 1 };
    if (this.lines.length === this.perShard) await this.flush();
    return pos;
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const key = `${this.keyPrefix}${String(this.files.length).padStart(5, '0')}.jsonl`;
    const data = Buffer.from(this.lines.join('\n') + '\n', 'utf8');
    this.files.push({ key, count: this.lines.length });
    this.lines = [];
    await this.sink.put(key, data);
  }
}
