import type { Readable } from 'node:stream';

/**
 * A random-access, re-readable byte source: a local file, an object in an object store (ranged
 * GETs) or a buffer. Archives are read through it piecewise, never loaded whole into memory.
 */
export interface ByteSource {
  /** A name used in messages and for format detection (e.g. the upload's file name). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Optional declared content type (e.g. from the upload), checked against the detected format. */
  readonly contentType?: string;
  /** A stream of bytes [start, end) of the source. */
  openRange(start: number, end: number): Promise<Readable>;
}

export function openWhole(source: ByteSource): Promise<Readable> {
  return source.openRange(0, source.size);
}

/** Reads bytes [start, end) into memory. For small ranges (headers, magic bytes). */
export async function readRange(source: ByteSource, start: number, end: number): Promise<Buffer> {
  const stop = Math.min(end, source.size);
  if (stop <= start) return Buffer.alloc(0);
  const stream = await source.openRange(start, stop);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
