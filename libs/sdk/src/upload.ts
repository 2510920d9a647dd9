import { open, stat } from 'node:fs/promises';
import type { ModelsmithClient } from './client';
import { uploadDatasetSource, type CompletedUpload, type UploadOptions } from './upload-core';

/**
 * Uploads a file on disk as a new dataset version (uploadDatasetSource): each part is read from the
 * file when sent, so memory stays at `concurrency` parts; resumable with `resume`.
 */
export async function uploadDatasetFile(
  client: ModelsmithClient,
  datasetId: string,
  path: string,
  o: UploadOptions = {},
): Promise<CompletedUpload> {
  const info = await stat(path);
  const handle = await open(path, 'r');
  try {
    return await uploadDatasetSource(
      client,
      datasetId,
      {
        file: { path, size: info.size, mtimeMs: info.mtimeMs },
        read: async (offset, length) => {
          const body = Buffer.alloc(length);
          await handle.read(body, 0, length, offset);
          return body;
        },
      },
      o,
    );
  } finally {
    await handle.close();
  }
}
