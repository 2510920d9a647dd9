import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ModelsmithClient, Schemas } from './client';

export type DownloadLink = Schemas['ModelDownloadDto'];

/**
 * Downloads a model's zip (tfjs model.json + weights, manifest, evaluation report, curves) to `dest`:
 * streamed to a temporary file renamed into place once complete, so an interrupted download never
 * leaves a truncated zip under the final name.
 */
export async function downloadModel(
  client: ModelsmithClient,
  modelId: string,
  dest: string,
  onProgress?: (bytes: number, total: number) => void,
): Promise<DownloadLink> {
  const link = await client.ok(
    client.api.POST('/v1/models/{id}/download', { params: { path: { id: modelId } } }),
  );
  const res = await client.raw(new URL(link.url, client.baseUrl).toString(), { auth: false });
  if (!res.body) throw new Error('the model download had no body');
  const tmp = `${dest}.part`;
  let bytes = 0;
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => {
    bytes += c.length;
    onProgress?.(bytes, link.sizeBytes);
  });
  try {
    await pipeline(body, createWriteStream(tmp));
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return link;
}
