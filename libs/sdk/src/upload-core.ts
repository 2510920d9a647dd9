import type { ModelsmithClient, Schemas } from './client';
import { ModelsmithError } from './problem';

/** What a resumed upload needs: kept by the caller (the CLI writes it to a file) after every part. */
export interface UploadState {
  uploadId: string;
  datasetId: string;
  datasetVersionId: string;
  partSize: number;
  partCount: number;
  /** The file the upload is of: a resume refuses a file that changed since. */
  file: { path: string; size: number; mtimeMs: number };
  /** Part number -> ETag of the parts the store acknowledged. */
  etags: Record<string, string>;
}

export interface UploadOptions {
  /** Ingestion options (format, imageSize, channels, target, textColumn, labelColumn, …). */
  options?: Record<string, unknown>;
  contentType?: string;
  /** A state saved by an earlier, interrupted call for the same file: only missing parts are sent. */
  resume?: UploadState;
  /** Called after the upload is opened and after every acknowledged part. */
  onState?: (s: UploadState) => void | Promise<void>;
  /** Bytes acknowledged so far, of the file's size. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  /** Parts in flight at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Where an upload's bytes come from: a file on disk (Node, upload.ts) or a Blob/File in a browser
 * (uploadDatasetBlob). `read` is called once per part still to send, just before it is sent.
 */
export interface UploadSource {
  /** Identity of the file (name, size, modification time): a resume refuses a changed file. */
  file: UploadState['file'];
  read(offset: number, length: number): Promise<Blob | Uint8Array>;
}

type PartUrl = Schemas['PartUrlDto'];
export type CompletedUpload = Schemas['QueuedVersionDto'];

/**
 * Uploads a source as a new dataset version through presigned multipart upload: parts go straight to
 * the object store (or the API's signed object route), a few at a time, each read when sent (memory
 * stays at `concurrency` parts). Interrupted, it resumes from `resume`: parts the store already holds
 * are not sent again. Returns the new version and its ingestion job.
 */
export async function uploadDatasetSource(
  client: ModelsmithClient,
  datasetId: string,
  source: UploadSource,
  o: UploadOptions = {},
): Promise<CompletedUpload> {
  const file = source.file;
  let state: UploadState;
  let urls: PartUrl[];
  const resume = o.resume && sameFile(o.resume, datasetId, file) ? o.resume : undefined;
  if (resume) {
    const s = await client.ok(
      client.api.GET('/v1/uploads/{uploadId}', { params: { path: { uploadId: resume.uploadId } } }),
    );
    state = { ...resume, etags: Object.fromEntries(s.received.map((p) => [String(p.partNumber), p.etag])) };
    urls = s.parts;
  } else {
    const name = file.path.split(/[\\/]/).pop() || 'upload';
    const started = await client.ok(
      client.api.POST('/v1/datasets/{id}/uploads', {
        params: { path: { id: datasetId } },
        body: {
          fileName: name,
          sizeBytes: file.size,
          ...(o.contentType ? { contentType: o.contentType } : {}),
          ...(o.options ? { options: o.options } : {}),
        },
      }),
    );
    state = {
      uploadId: started.uploadId,
      datasetId,
      datasetVersionId: started.datasetVersionId,
      partSize: started.partSize,
      partCount: started.partCount,
      file,
      etags: {},
    };
    urls = started.parts;
  }
  await o.onState?.(state);

  const sizeOf = (n: number) => Math.max(0, Math.min(state.partSize, file.size - (n - 1) * state.partSize));
  let sent = Object.keys(state.etags).reduce((a, n) => a + sizeOf(Number(n)), 0);
  o.onProgress?.(sent, file.size);
  const missing = urls.filter((u) => !state.etags[String(u.partNumber)]);
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      o.signal?.throwIfAborted();
      const part = missing[next++];
      const size = sizeOf(part.partNumber);
      const body = await source.read((part.partNumber - 1) * state.partSize, size);
      const url = new URL(part.url, client.baseUrl).toString();
      const res = await client.raw(url, {
        method: 'PUT',
        body: body as RequestInit['body'],
        auth: false,
        headers: { 'content-type': 'application/octet-stream' },
        ...(o.signal ? { signal: o.signal } : {}),
      });
      const etag = res.headers.get('etag');
      if (!etag)
        throw new ModelsmithError(502, {
          status: 502,
          title: 'No ETag',
          detail: `the store acknowledged part ${part.partNumber} without an ETag (a store on another origin must expose the ETag header to browsers)`,
        });
      state.etags[String(part.partNumber)] = etag;
      sent += size;
      o.onProgress?.(sent, file.size);
      await o.onState?.(state);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));

  const parts = Object.entries(state.etags)
    .map(([n, etag]) => ({ partNumber: Number(n), etag }))
    .sort((a, b) => a.partNumber - b.partNumber);
  const done: unknown = await client.ok(
    client.api.POST('/v1/uploads/{uploadId}/complete', {
      params: { path: { uploadId: state.uploadId } },
      body: { parts },
    }),
  );
  return done as CompletedUpload;
}

/**
 * Uploads a Blob (a browser File, e.g. from a drop or a file input) as a new dataset version, with
 * the same resumable multipart protocol as the CLI: each part is a slice of the blob, read when sent.
 */
export function uploadDatasetBlob(
  client: ModelsmithClient,
  datasetId: string,
  blob: Blob & { name?: string; lastModified?: number },
  o: UploadOptions = {},
): Promise<CompletedUpload> {
  const source: UploadSource = {
    file: { path: blob.name || 'upload.zip', size: blob.size, mtimeMs: blob.lastModified ?? 0 },
    read: async (offset, length) => blob.slice(offset, offset + length),
  };
  return uploadDatasetSource(client, datasetId, source, { contentType: blob.type || undefined, ...o });
}

function sameFile(s: UploadState, datasetId: string, f: UploadState['file']): boolean {
  return s.datasetId === datasetId && s.file.size === f.size && s.file.mtimeMs === f.mtimeMs;
}
