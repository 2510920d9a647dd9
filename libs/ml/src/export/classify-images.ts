import * as tf from '@tensorflow/tfjs';
import { predictProbabilities, testTimeAveragingOf } from '../preprocess/image-views';
import { imagesToBatch, type PreprocessOptions } from '../preprocess/preprocess-image';
import { ModelArtifactError } from './artifact-errors';
import type { ExportedModel } from './load-exported-model';

export interface ClassScore {
  label: string;
  score: number;
}

export interface ImageClassification {
  /** Best class and its probability. */
  label: string;
  score: number;
  /** The topK classes, best first. */
  top: ClassScore[];
}

export interface ClassifyImagesOptions {
  topK?: number;
  /** Images per forward pass. Default 16. */
  batchSize?: number;
  maxInputPixels?: PreprocessOptions['maxInputPixels'];
}

/**
 * Classifies encoded images (jpeg, png, ...) with an exported image model, preprocessing them the
 * way its manifest says (size, channels, fit policy, normalization), averaging the probabilities over
 * the manifest's test-time views (`tta`) when it has them.
 */
export async function classifyImages(
  exported: ExportedModel,
  images: readonly Uint8Array[],
  options: ClassifyImagesOptions = {},
): Promise<ImageClassification[]> {
  const { manifest, model } = exported;
  if (manifest.input.kind !== 'image' || manifest.normalization === null) {
    throw new ModelArtifactError(
      'ARTIFACT_MODEL_MISMATCH',
      `model task ${manifest.task} does not take images`,
    );
  }
  const spec = { ...manifest.input, normalization: manifest.normalization };
  const topK = Math.min(options.topK ?? 3, manifest.classNames.length);
  const batchSize = options.batchSize ?? 16;
  const tta = testTimeAveragingOf(manifest);
  const results: ImageClassification[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = await imagesToBatch(images.slice(start, start + batchSize), spec, {
      fit: manifest.input.fit,
      maxInputPixels: options.maxInputPixels,
      ...(manifest.input.trainedFrom ? { trainedFrom: manifest.input.trainedFrom } : {}),
    });
    const probabilities = predictProbabilities(model, batch, tta);
    const rows = await probabilities.array();
    tf.dispose([batch, probabilities]);
    for (const row of rows) {
      const ranked = row
        .map((score, i) => ({ label: manifest.classNames[i], score }))
        .sort((a, b) => b.score - a.score);
      results.push({ label: ranked[0].label, score: ranked[0].score, top: ranked.slice(0, topK) });
    }
  }
  return results;
}
