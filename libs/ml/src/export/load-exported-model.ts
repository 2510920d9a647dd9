import type * as tf from '@tensorflow/tfjs';
import { ModelArtifactError } from './artifact-errors';
import { resolveLimits, type ArtifactLimits } from './artifact-limits';
import { assertSafeRelativePath } from './artifact-paths';
import type { ArtifactReader } from './artifact-store';
import { EXPORT_MANIFEST_FILE, exportManifestSchema, type ExportManifest } from './export-manifest';
import { assertModelMatches } from './model-shape-check';
import { loadLayersModelFromArtifacts, readArtifact, readLayersModelArtifacts } from './read-layers-model';
import { sha256Hex } from './sha256';
import { parseJson } from './tfjs-model-json';

export interface ExportedModel {
  model: tf.LayersModel;
  manifest: ExportManifest;
}

/** Reads and validates manifest.json under `prefix`: schema, safe paths, declared sizes within limits. */
export async function readExportManifest(
  reader: ArtifactReader,
  prefix: string,
  limitOverrides?: Partial<ArtifactLimits>,
): Promise<ExportManifest> {
  const limits = resolveLimits(limitOverrides);
  const bytes = await readArtifact(reader, prefix, EXPORT_MANIFEST_FILE, { maxBytes: limits.maxJsonBytes });
  const parsed = exportManifestSchema.safeParse(parseJson(bytes, EXPORT_MANIFEST_FILE));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `manifest.json: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const manifest = parsed.data;
  let weightBytes = 0;
  for (const file of manifest.files) {
    assertSafeRelativePath(file.path, 'manifest file');
    if (file.path === manifest.modelFile) {
      if (file.size > limits.maxJsonBytes)
        throw new ModelArtifactError(
          'ARTIFACT_TOO_LARGE',
          `model.json is declared ${file.size} bytes, over the cap`,
        );
    } else {
      weightBytes += file.size;
    }
  }
  if (weightBytes > limits.maxWeightBytes) {
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `weights are declared ${weightBytes} bytes, over the ${limits.maxWeightBytes}-byte cap`,
    );
  }
  if (manifest.files.length - 1 > limits.maxShards) {
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `manifest lists ${manifest.files.length - 1} shards, over the cap of ${limits.maxShards}`,
    );
  }
  return manifest;
}

/** An exported model's files, read and verified but not yet built into a tfjs model. */
export interface ExportedArtifacts {
  artifacts: tf.io.ModelArtifacts;
  manifest: ExportManifest;
}

/**
 * Loads a model written by exportModel: validates manifest.json first, then reads model.json and
 * the shards it names, refusing any file that is not listed or whose size or sha256 differs, and
 * finally checks the model's shapes against the manifest.
 */
export async function loadExportedModel(
  reader: ArtifactReader,
  prefix: string,
  options: { limits?: Partial<ArtifactLimits> } = {},
): Promise<ExportedModel> {
  return buildExportedModel(await readExportedArtifacts(reader, prefix, options));
}

/**
 * The reading half of loadExportedModel: manifest.json validated, then model.json and every shard
 * read (nothing unlisted, nothing past its declared size) and checked against its sha256. The
 * result can be built here or in another thread (it is structured-cloneable).
 */
export async function readExportedArtifacts(
  reader: ArtifactReader,
  prefix: string,
  options: { limits?: Partial<ArtifactLimits> } = {},
): Promise<ExportedArtifacts> {
  const manifest = await readExportManifest(reader, prefix, options.limits);
  const listed = new Map(manifest.files.map((file) => [file.path, file]));
  const verified = new Set<string>();
  const artifacts = await readLayersModelArtifacts(reader, prefix, {
    limits: options.limits,
    modelJsonPath: manifest.modelFile,
    // Nothing unlisted is read, and nothing listed is read past its declared size.
    maxBytesOf: (path) => {
      const expected = listed.get(path);
      if (!expected)
        throw new ModelArtifactError(
          'ARTIFACT_MANIFEST_INVALID',
          `model.json names ${path}, which manifest.json does not list`,
        );
      return expected.size;
    },
    verifyFile: (path, data) => {
      const expected = listed.get(path);
      if (!expected)
        throw new ModelArtifactError(
          'ARTIFACT_MANIFEST_INVALID',
          `model.json names ${path}, which manifest.json does not list`,
        );
      if (data.byteLength !== expected.size || sha256Hex(data) !== expected.sha256) {
        throw new ModelArtifactError(
          'ARTIFACT_INTEGRITY_MISMATCH',
          `${path} does not match the size and sha256 in manifest.json`,
        );
      }
      verified.add(path);
    },
  });
  const unread = manifest.files.filter((file) => !verified.has(file.path));
  if (unread.length > 0) {
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `manifest.json lists files model.json does not use: ${unread.map((f) => f.path).join(', ')}`,
    );
  }
  return { artifacts, manifest };
}

/** The building half of loadExportedModel: the tfjs model, checked against the manifest's input and classes. */
export async function buildExportedModel({ artifacts, manifest }: ExportedArtifacts): Promise<ExportedModel> {
  const model = await loadLayersModelFromArtifacts(artifacts);
  try {
    assertModelMatches(model, manifest.input, manifest.classNames.length);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, manifest };
}
