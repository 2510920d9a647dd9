import { PassThrough, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { ZipFile } from 'yazl';

export interface FileSpec {
  path: string;
  data: Buffer | string;
  /** Unix mode including the file type bits (e.g. 0o120777 for a symlink). */
  mode?: number;
  compress?: boolean;
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of Readable.from(stream)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Builds a zip in memory with yazl. */
export async function buildZip(files: FileSpec[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const f of files) {
    if (f.path.endsWith('/')) {
      zip.addEmptyDirectory(f.path.slice(0, -1), { mtime: new Date(0) });
      continue;
    }
    const data = typeof f.data === 'string' ? Buffer.from(f.data) : f.data;
    zip.addBuffer(data, f.path, { mode: f.mode, compress: f.compress ?? true, mtime: new Date(0) });
  }
  zip.end();
  return collect(zip.outputStream);
}

/** Streams a zip of many files to a Node stream (benchmarks). */
export function zipStream(files: AsyncIterable<FileSpec>): Readable {
  const zip = new ZipFile();
  const out = new PassThrough();
  zip.outputStream.pipe(out);
  void (async () => {
    for await (const f of files)
      zip.addBuffer(typeof f.data === 'string' ? Buffer.from(f.data) : f.data, f.path, {
        compress: f.compress ?? false,
        mtime: new Date(0),
      });
    zip.end();
  })();
  return out;
}

export interface TarSpec {
  path: string;
  data?: Buffer | string;
  type?: Header['type'];
  linkname?: string;
}

/** Builds a tar.gz in memory with tar-stream + zlib. */
export async function buildTarGz(files: TarSpec[]): Promise<Buffer> {
  const p = pack();
  const gz = p.pipe(createGzip()) as unknown as NodeJS.ReadableStream;
  const done = collect(gz);
  for (const f of files) {
    const data = f.data === undefined ? undefined : typeof f.data === 'string' ? Buffer.from(f.data) : f.data;
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: f.path,
        type: f.type ?? 'file',
        linkname: f.linkname,
        size: data?.length ?? 0,
        mtime: new Date(0),
      };
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (data) p.entry(header, data, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  return done;
}
