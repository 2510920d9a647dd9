import type { ModelsmithClient } from './client';

/** One input's prediction: image and text models answer `top`; tabular classifiers `probabilities`. */
export interface Prediction {
  label: string;
  score: number;
  top?: { label: string; score: number }[];
  probabilities?: Record<string, number>;
  /** Tabular regression answers only a value (no label or score). */
  value?: number;
}
export interface PredictAnswer {
  deploymentId: string;
  modelId: string;
  modelVersion: string;
  predictions: Prediction[];
  tookMs: number;
}

/**
 * Predicts images with a deployment (its `predictUrl`, on the serving app): one multipart request with
 * every blob as an `image` part, in order; the answer has one prediction per image. Works in a
 * browser (Files from a drop) as in Node. The key needs the PREDICT (or ADMIN) scope.
 */
export async function predictBlobs(
  client: ModelsmithClient,
  predictUrl: string,
  images: { name: string; blob: Blob }[],
  topK?: number,
): Promise<PredictAnswer> {
  const form = new FormData();
  if (topK !== undefined) form.append('topK', String(topK));
  for (const i of images) form.append('image', i.blob, i.name);
  const res = await client.raw(predictUrl, { method: 'POST', body: form });
  return (await res.json()) as PredictAnswer;
}
