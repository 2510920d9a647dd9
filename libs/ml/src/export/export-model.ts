import * as tf from '@tensorflow/tfjs';
import { ModelArtifactError } from './artifact-errors';
import { joinKey } from './artifact-paths';
import type { ArtifactWriter } from './artifact-store';
import {
  EXPORT_FORMAT_VERSION,
  EXPORT_MANIFEST_FILE,
  exportManifestSchema,
  type ExportManifest,
} from './export-manifest';
import { assertModelMatches } from './model-shape-check';
import { saveLayersModel } from './save-layers-model';

export type ExportModelInfo = Pick<
  ExportManifest,
  'task' | 'input' | 'normalization' | 'classNames' | 'backboneId' | 'metrics' | 'tta'
> & {
  /** Defaults to now. */
  createdAt?: Date;
  /** Largest weight shard in bytes (default 4 MiB). */
  shardBytes?: number;
};

/**
 * Writes a trained tfjs layers model under `prefix`: model.json + weight shards (standard tfjs
 * format, float32) and, last, manifest.json describing the model and listing every file with its
 * size and sha256. A reader that sees manifest.json therefore sees a complete export.
 */
export async function exportModel(
  model: tf.LayersModel,
  writer: ArtifactWriter,
  prefix: string,
  info: ExportModelInfo,
): Promise<ExportManifest> {
  assertModelMatches(model, info.input, info.classNames.length);
  const createdAt = info.createdAt ?? new Date();
  // Validate the description before writing anything, so a refused export leaves the store untouched.
  const placeholder = { size: 0, sha256: '0'.repeat(64) };
  buildManifest(info, createdAt, [
    { path: 'model.json', ...placeholder },
    { path: 'group1-shard1of1.bin', ...placeholder },
  ]);
  const files = await saveLayersModel(model, writer, prefix, { shardBytes: info.shardBytes });
  const manifest = buildManifest(info, createdAt, files);
  await writer.put(
    joinKey(prefix, EXPORT_MANIFEST_FILE),
    new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
    'application/json',
  );
  return manifest;
}

function buildManifest(
  info: ExportModelInfo,
  createdAt: Date,
  files: ExportManifest['files'],
): ExportManifest {
  const parsed = exportManifestSchema.safeParse({
    format: 'modelsmith-model',
    formatVersion: EXPORT_FORMAT_VERSION,
    task: info.task,
    input: info.input,
    normalization: info.normalization,
    classNames: info.classNames,
    ...(info.tta?.length ? { tta: info.tta } : {}),
    backboneId: info.backboneId,
    metrics: info.metrics,
    createdAt: createdAt.toISOString(),
    framework: { name: 'tensorflow.js', version: tf.version.tfjs },
    modelFile: 'model.json',
    files,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `export refused: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid manifest'}`,
    );
  }
  return parsed.data;
}
