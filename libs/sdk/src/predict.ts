import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { ModelsmithClient } from './client';
import { predictBlobs, type PredictAnswer } from './predict-core';

const IMAGE_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/** Whether a file name looks like an image the serving app decodes. */
export function isImageFile(name: string): boolean {
  return extname(name).toLowerCase() in IMAGE_TYPES;
}

/**
 * Predicts images with a deployment (its `predictUrl`, on the serving app): one multipart request with
 * every file as a part, in order; the answer has one prediction per file. The key needs the PREDICT
 * (or ADMIN) scope.
 */
export async function predictFiles(
  client: ModelsmithClient,
  predictUrl: string,
  files: string[],
  topK?: number,
): Promise<PredictAnswer> {
  const images = [];
  for (const f of files) {
    const type = IMAGE_TYPES[extname(f).toLowerCase()] ?? 'application/octet-stream';
    images.push({ name: basename(f), blob: new Blob([await readFile(f)], { type }) });
  }
  return predictBlobs(client, predictUrl, images, topK);
}
