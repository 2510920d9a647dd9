import { createHash } from 'node:crypto';
import type { CheckpointStore } from './checkpoint';

/** Raw bytes by key: an object store, a directory. `get` resolves null when the key is absent. */
export interface CheckpointByteStore {
  put(key: string, data: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
}

const MAGIC = 0x4d53434b; // "MSCK"
const HEADER = 12; // magic u32 + sequence f64
const DIGEST = 32;

function seal(seq: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.byteLength + DIGEST);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setFloat64(4, seq);
  out.set(data, HEADER);
  out.set(
    createHash('sha256')
      .update(out.subarray(0, HEADER + data.byteLength))
      .digest(),
    HEADER + data.byteLength,
  );
  return out;
}

function open(blob: Uint8Array | null): { seq: number; data: Uint8Array } | null {
  if (!blob || blob.byteLength < HEADER + DIGEST) return null;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0) !== MAGIC) return null;
  const end = blob.byteLength - DIGEST;
  const digest = createHash('sha256').update(blob.subarray(0, end)).digest();
  if (!digest.equals(blob.subarray(end))) return null;
  return { seq: view.getFloat64(4), data: blob.subarray(HEADER, end) };
}

/**
 * Checkpoints that survive a writer killed mid-write: saves alternate between two slots, each sealed
 * with a sequence number and a sha256, and `load` returns the newest slot that verifies. A torn or
 * truncated write (some S3-compatible servers write objects in place) costs one checkpoint interval,
 * never the whole run.
 */
export class SlottedCheckpointStore implements CheckpointStore {
  private readonly latest = new Map<string, number>();

  constructor(private readonly bytes: CheckpointByteStore) {}

  async save(key: string, data: Uint8Array): Promise<void> {
    const seq = (this.latest.get(key) ?? (await this.newest(key))?.seq ?? 0) + 1;
    await this.bytes.put(`${key}.${seq % 2}`, seal(seq, data));
    this.latest.set(key, seq);
  }

  async load(key: string): Promise<Uint8Array | null> {
    const newest = await this.newest(key);
    if (newest) this.latest.set(key, newest.seq);
    return newest?.data ?? null;
  }

  private async newest(key: string): Promise<{ seq: number; data: Uint8Array } | null> {
    const slots = (await Promise.all([this.bytes.get(`${key}.0`), this.bytes.get(`${key}.1`)])).map(open);
    return slots.reduce<{ seq: number; data: Uint8Array } | null>(
      (best, s) => (s && (!best || s.seq > best.seq) ? s : best),
      null,
    );
  }
}
