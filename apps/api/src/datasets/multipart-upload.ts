import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import {
  fileNameProblem,
  formFieldProblem,
  malformedMultipart,
  multipartParser,
  ProblemError,
  tooManyParts,
} from '@modelsmith/http';

/** What one upload form may carry besides its file: a few option fields, each short. */
const FORM_LIMITS = { files: 1, fields: 30, fieldSize: 16 * 1024, parts: 32 } as const;

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
  store: (
    file: Readable,
    meta: { fileName: string; contentType: string },
    fields: Record<string, string>,
  ) => Promise<void>,
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
    let bb: ReturnType<typeof multipartParser>;
    // On failure, stop the file stream and wait for `store` to settle, so the caller's cleanup sees
    // everything `store` created.
    let failure = new Error('upload failed');
    let failureIsProblem = false;
    const fail = (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      // Of the errors one failure raises (the file stream's, the store's, busboy's), a problem wins:
      // it says what was wrong with the request, the others only that reading stopped.
      if (!failed || (!failureIsProblem && error instanceof ProblemError)) {
        failure = error;
        failureIsProblem = error instanceof ProblemError;
      }
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      if (limitedStream && !limitedStream.destroyed) limitedStream.destroy(error);
      const settled = storing
        ? storing.then(
            () => undefined,
            () => undefined,
          )
        : Promise.resolve();
      void settled.then(() => reject(failure));
    };
    try {
      bb = multipartParser(req, FORM_LIMITS);
    } catch (e) {
      req.resume();
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    bb.on('field', (name, value, info) => {
      const problem = formFieldProblem(name, value, info, FORM_LIMITS.fieldSize);
      if (problem) return fail(problem);
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      // Every file stream gets an error listener before anything else: busboy destroys it with an
      // error when the body ends early ("Unexpected end of form"), and an unheard 'error' ends the process.
      // (fail() then destroys the stream the store is reading, so the store stops too.)
      stream.on('error', (e) => fail(malformedMultipart(e)));
      if (failed) return void stream.resume();
      if (name !== 'file' || file) {
        stream.resume();
        return fail(
          new ProblemError({
            status: 400,
            code: 'BAD_REQUEST',
            title: 'Unexpected file part',
            detail: `send exactly one file part, named "file" (got "${name}")`,
          }),
        );
      }
      const badName = fileNameProblem(name, info.filename ?? '');
      if (badName) {
        stream.resume();
        return fail(badName);
      }
      const meta = {
        fileName: info.filename || 'upload.bin',
        contentType: info.mimeType || 'application/octet-stream',
      };
      const current: UploadedFile = { ...meta, bytes: 0 };
      file = current;
      const limited = stream.pipe(byteLimiter(maxBytes, (n) => (current.bytes = n)));
      limitedStream = limited;
      limited.on('error', fail);
      storing = store(limited, meta, { ...fields }).catch((e: unknown) => {
        stream.resume();
        throw e;
      });
      storing.catch(fail);
    });
    bb.on('filesLimit', () =>
      fail(
        new ProblemError({
          status: 400,
          code: 'BAD_REQUEST',
          title: 'Too many files',
          detail: 'send one file per upload',
        }),
      ),
    );
    bb.on('fieldsLimit', () => fail(tooManyParts('fields', FORM_LIMITS.fields)));
    bb.on('partsLimit', () => fail(tooManyParts('parts', FORM_LIMITS.parts)));
    bb.on('error', (e) => fail(malformedMultipart(e)));
    bb.on('close', () => {
      if (failed) return;
      if (!file || !storing) {
        return fail(
          new ProblemError({
            status: 400,
            code: 'BAD_REQUEST',
            title: 'No file',
            detail: 'the multipart body has no part named "file"',
          }),
        );
      }
      const done = file;
      storing.then(() => resolve({ fields, file: done }), fail);
    });
    req.on('error', (e) => fail(malformedMultipart(e)));
    req.on('aborted', () =>
      fail(
        new ProblemError({
          status: 400,
          code: 'BAD_REQUEST',
          title: 'Upload aborted',
          detail: 'the client closed the connection',
        }),
      ),
    );
    req.pipe(bb);
  });
}
