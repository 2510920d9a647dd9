import { call, waitFor, type Platform } from './platform';

/** Uploads `zip` as a new dataset and waits until its version is READY. */
export async function readyDataset(
  p: Platform,
  token: string,
  zip: Buffer,
  fields: Record<string, string> = {},
): Promise<string> {
  const ds = await call(p.apiUrl, 'POST', '/v1/datasets', {
    token,
    body: { name: 'digits', task: 'image-classification' },
  });
  return readyVersion(
    p,
    token,
    ds.body.id as string,
    new Blob([zip], { type: 'application/zip' }),
    'digits.zip',
    fields,
  );
}

/**
 * Uploads `file` (form fields first, then the file) as a new version of dataset `datasetId`, checks the
 * upload was accepted (202), and waits until the version is READY; returns its id.
 */
export async function readyVersion(
  p: Platform,
  token: string,
  datasetId: string,
  file: Blob,
  fileName: string,
  fields: Record<string, string> = {},
): Promise<string> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', file, fileName);
  const res = await fetch(`${p.apiUrl}/v1/datasets/${datasetId}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(202);
  const up = (await res.json()) as { version: { id: string } };
  const version = await waitFor(
    'dataset ready',
    async () => {
      const v = await call(p.apiUrl, 'GET', `/v1/datasets/${datasetId}/versions/${up.version.id}`, { token });
      if (v.body.status === 'FAILED') throw new Error(`ingestion failed: ${v.body.failureReason}`);
      return v.body.status === 'READY' ? v.body : undefined;
    },
    600_000,
    300,
  );
  return version.id as string;
}

/** A presigned part of a dataset upload, as `POST /v1/datasets/:id/uploads` lists it. */
export interface UploadPartUrl {
  partNumber: number;
  url: string;
}

/**
 * PUTs each part's slice of `body` to its presigned URL, in the order given, and returns the part
 * list `POST /v1/uploads/:id/complete` takes. A part the server does not accept with 200 throws.
 */
export async function putUploadParts(
  parts: readonly UploadPartUrl[],
  body: Buffer,
  partSize: number,
): Promise<{ partNumber: number; etag: string }[]> {
  const etags: { partNumber: number; etag: string }[] = [];
  for (const part of parts) {
    const chunk = body.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize);
    const res = await fetch(part.url, { method: 'PUT', body: chunk });
    if (res.status !== 200) throw new Error(`PUT of part ${part.partNumber} answered ${res.status}`);
    etags.push({ partNumber: part.partNumber, etag: res.headers.get('etag') ?? '' });
  }
  return etags;
}
