import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { CheckpointError } from './errors';

/**
 * Where checkpoints live. Keys are opaque strings chosen by the caller (e.g. `jobs/<id>/ckpt`); the
 * worker plugs its object store in, tests use {@link MemoryCheckpointStore}, scripts use
 * {@link FsCheckpointStore}.
 */
export interface CheckpointStore {
  save(key: string, data: Uint8Array): Promise<void>;
  /** The bytes saved under `key`, or null when there are none. */
  load(key: string): Promise<Uint8Array | null>;
}

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly entries = new Map<string, Uint8Array>();

  async save(key: string, data: Uint8Array): Promise<void> {
    this.entries.set(key, new Uint8Array(data)); // copy: the caller may reuse its buffer
  }

  async load(key: string): Promise<Uint8Array | null> {
    const d = this.entries.get(key);
    return d ? new Uint8Array(d) : null;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** Stores each key as a file under `root`; writes are atomic (temporary file + rename). */
export class FsCheckpointStore implements CheckpointStore {
  constructor(readonly root: string) {}

  private fileOf(key: string): string {
    if (!key || key.split('/').some((p) => p === '' || p === '.' || p === '..') || key.includes('\\')) {
      throw new CheckpointError(`invalid checkpoint key '${key}'`, 'invalid-key');
    }
    return path.join(this.root, ...key.split('/')) + '.ckpt';
  }

  async save(key: string, data: Uint8Array): Promise<void> {
    const file = this.fileOf(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  }

  async load(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await fs.readFile(this.fileOf(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }
}

// ---- binary container: magic, header JSON, then raw tensor bytes ---------------------------------

const MAGIC = 'MSCKPT01';

export type TensorDType = 'float32' | 'int32' | 'bool';

/** A tensor's values detached from tfjs (typed array + shape), ready to encode. */
export interface RawTensor {
  name: string;
  dtype: TensorDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

interface TensorEntry {
  name: string;
  dtype: TensorDType;
  shape: number[];
  offset: number;
  byteLength: number;
}

/** Encodes a JSON-serialisable header and tensors into one byte array. */
export function encodeCheckpoint(header: unknown, tensors: RawTensor[]): Uint8Array {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const t of tensors) {
    const byteLength = t.data.byteLength;
    entries.push({ name: t.name, dtype: t.dtype, shape: t.shape, offset, byteLength });
    offset += align4(byteLength);
  }
  const json = new TextEncoder().encode(JSON.stringify({ header, tensors: entries }));
  const headerLen = align4(json.byteLength);
  const start = MAGIC.length + 4 + headerLen;
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.byteLength, true);
  out.set(json, MAGIC.length + 4);
  tensors.forEach((t, i) => {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), start + entries[i].offset);
  });
  return out;
}

const BYTES_PER_ELEMENT: Record<TensorDType, number> = { float32: 4, int32: 4, bool: 1 };

const containerSchema = z.object({
  header: z.unknown(),
  tensors: z.array(
    z.object({
      name: z.string(),
      dtype: z.enum(['float32', 'int32', 'bool']),
      shape: z.array(z.int().nonnegative()),
      offset: z.int().nonnegative(),
      byteLength: z.int().nonnegative(),
    }),
  ),
});

/**
 * Decodes {@link encodeCheckpoint}'s output. The tensors' typed arrays are copies. Bytes that are not
 * such a container throw a {@link CheckpointError} saying why (`foreign`, `truncated`, `corrupt`);
 * the header comes back unchecked, for the caller's own schema.
 */
export function decodeCheckpoint<H>(bytes: Uint8Array): { header: H; tensors: Map<string, RawTensor> } {
  const magic = new TextEncoder().encode(MAGIC);
  const head = bytes.subarray(0, magic.length);
  if (!head.every((b, i) => b === magic[i])) {
    throw new CheckpointError('not a Modelsmith checkpoint (bad magic)', 'foreign');
  }
  if (bytes.byteLength < magic.length + 4) throw new CheckpointError('truncated checkpoint', 'truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = view.getUint32(MAGIC.length, true);
  const jsonStart = MAGIC.length + 4;
  if (jsonStart + jsonLen > bytes.byteLength) {
    throw new CheckpointError('truncated checkpoint header', 'truncated');
  }
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(jsonStart, jsonStart + jsonLen)),
    );
  } catch {
    throw new CheckpointError('corrupt checkpoint header');
  }
  const parsed = containerSchema.safeParse(json);
  if (!parsed.success) throw new CheckpointError(`corrupt checkpoint tensor table: ${parsed.error.message}`);
  const start = jsonStart + align4(jsonLen);
  const tensors = new Map<string, RawTensor>();
  for (const e of parsed.data.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.byteLength !== size * BYTES_PER_ELEMENT[e.dtype]) {
      throw new CheckpointError(
        `tensor '${e.name}' has ${e.byteLength} bytes, shape [${e.shape.join(',')}] needs ${size} ${e.dtype} values`,
      );
    }
    if (tensors.has(e.name)) throw new CheckpointError(`tensor '${e.name}' appears twice`);
    if (start + e.offset + e.byteLength > bytes.byteLength) {
      throw new CheckpointError(`truncated tensor '${e.name}'`, 'truncated');
    }
    const raw = bytes.slice(start + e.offset, start + e.offset + e.byteLength);
    const data =
      e.dtype === 'float32'
        ? new Float32Array(raw.buffer, 0, size)
        : e.dtype === 'int32'
          ? new Int32Array(raw.buffer, 0, size)
          : raw;
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data });
  }
  return { header: parsed.data.header as H, tensors };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
