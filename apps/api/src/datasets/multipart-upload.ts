import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { ProblemError } from '@modelsmith/http';

export interface UploadedFile {
  fileName: string;
  contentType: string;
  bytes: number;
}

export class UploadTooLargeError extends ProblemError {
  constructor(limit: bigint | number) {
    super({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      title: 'Upload too large',
      detail: `uploads are limited to ${limit.toString()} bytes for this tenant; use the presigned multipart upload for large files only if your quota allows it`,
    });
  }
}

/** Counts bytes going through and fails the stream as soon as `limit` is passed. */
export function byteLimiter(limit: number, onBytes: (n: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      onBytes(seen);
      if (seen > limit) done(new UploadTooLargeError(limit));
      else done(null, chunk);
    },
  });
}

/**
 * Parses a multipart/form-data request whose text fields precede one `file` part, and hands the file
 * to `store` as a stream (never buffered whole). Resolves with the fields and file metadata once the
 * store has consumed the whole file.
 */
export function streamMultipartUpload(
  req: IncomingMessage,
  maxBytes: number,
  store: (file: Readable, meta: { fileName: string; contentType: string }, fields: Record<string, string>) => Promise<void>,
): Promise<{ fields: Record<string, string>; file: UploadedFile }> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) {
    return Promise.reject(
      new ProblemError({
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        title: 'Expected multipart/form-data',
        detail: `send the dataset as a multipart/form-data part named "file" (got content-type "${type || 'none'}")`,
      }),
    );
  }
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let file: UploadedFile | undefined;
    let storing: Promise<void> | undefined;
    let limitedStream: Transform | undefined;
    let failed = false;
    // On failure, stop the file stream and wait for `store` to settle, so the caller's cleanup sees
    // everything `store` created.
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      const error = e instanceof Error ? e : new Error(String(e));
      req.unpipe(bb);
      req.resume();
      if (limitedStream && !limitedStream.destroyed) limitedStream.destroy(error);
      const settled = storing ? storing.then(() => undefined, () => undefined) : Promise.resolve();
      void settled.then(() => reject(error));
    };
    const bb = busboy({ headers: req.headers, limits: { files: 1, fields: 30, fieldSize: 16 * 1024, parts: 32 } });
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || file) {
        stream.resume();
        return fail(new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Unexpected file part', detail: `send exactly one file part, named "file" (got "${name}")` }));
      }
      const meta = { fileName: info.filename || 'upload.bin', contentType: info.mimeType || 'application/octet-stream' };
      const current: UploadedFile = { ...meta, bytes: 0 };
      file = current;
      const limited = stream.pipe(byteLimiter(maxBytes, (n) => (current.bytes = n)));
      limitedStream = limited;
      stream.on('error', (e) => limited.destroy(e));
      limited.on('error', fail);
      storing = store(limited, meta, { ...fields }).catch((e: unknown) => {
        stream.resume();
        throw e;
      });
      storing.catch(fail);
    });
    bb.on('filesLimit', () => fail(new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Too many files', detail: 'send one file per upload' })));
    bb.on('error', fail);
    bb.on('close', () => {
      if (failed) return;
      if (!file || !storing) {
        return fail(new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'No file', detail: 'the multipart body has no part named "file"' }));
      }
      const done = file;
      storing.then(() => resolve({ fields, file: done }), fail);
    });
    req.on('aborted', () => fail(new ProblemError({ status: 400, code: 'BAD_REQUEST', title: 'Upload aborted', detail: 'the client closed the connection' })));
    req.pipe(bb);
  });
}
