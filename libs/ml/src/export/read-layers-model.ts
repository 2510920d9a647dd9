import * as tf from '@tensorflow/tfjs';
import { ModelArtifactError } from './artifact-errors';
import { resolveLimits, type ArtifactLimits } from './artifact-limits';
import { joinKey, normalizePrefix } from './artifact-paths';
import type { ArtifactReader } from './artifact-store';
import { checkModelJson } from './tfjs-model-json';

export interface ReadModelOptions {
  limits?: Partial<ArtifactLimits>;
  /** Path of model.json relative to the prefix. Default 'model.json'. */
  modelJsonPath?: string;
  /** Called with every file read (path relative to the prefix) before it is used; throw to refuse it. */
  verifyFile?: (path: string, data: Uint8Array) => void;
  /**
   * The most bytes a file may have, asked before it is read (path relative to the prefix); throw to
   * refuse the file unread. Weight shards are also capped by what model.json declares.
   */
  maxBytesOf?: (path: string) => number;
}

/** The most bytes a file may have: a limit (ARTIFACT_TOO_LARGE) or a declared size (ARTIFACT_INTEGRITY_MISMATCH). */
export interface ByteCap {
  maxBytes: number;
  declared?: boolean;
}

/**
 * Reads one key, turning a reader failure into ARTIFACT_NOT_FOUND. With a cap, a bigger object is
 * refused: before reading it when the reader can tell sizes, after otherwise.
 */
export async function readArtifact(
  reader: ArtifactReader,
  prefix: string,
  path: string,
  cap?: ByteCap,
): Promise<Uint8Array> {
  const key = joinKey(prefix, path);
  const maxBytes = cap?.maxBytes;
  const tooLarge = (size: number) =>
    cap?.declared
      ? new ModelArtifactError(
          'ARTIFACT_INTEGRITY_MISMATCH',
          `${key} is ${size} bytes, more than the ${maxBytes} declared for it`,
        )
      : new ModelArtifactError(
          'ARTIFACT_TOO_LARGE',
          `${key} is ${size} bytes, over the ${maxBytes}-byte cap`,
        );
  let bytes: Uint8Array;
  try {
    if (maxBytes !== undefined && reader.size) {
      const size = await reader.size(key);
      if (size === null) throw new Error('no such object');
      if (size > maxBytes) throw tooLarge(size);
    }
    bytes = await reader.get(key);
  } catch (error) {
    if (error instanceof ModelArtifactError) throw error;
    throw new ModelArtifactError('ARTIFACT_NOT_FOUND', `could not read ${key}`, { cause: error });
  }
  if (maxBytes !== undefined && bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength);
  return bytes;
}

/**
 * Reads a tfjs layers model (model.json + weight shards) stored under `prefix`, validating the
 * manifest before fetching weights and checking that the bytes read match what it declares.
 */
export async function readLayersModelArtifacts(
  reader: ArtifactReader,
  prefix: string,
  options: ReadModelOptions = {},
): Promise<tf.io.ModelArtifacts> {
  const limits = resolveLimits(options.limits);
  const base = normalizePrefix(prefix);
  const modelJsonPath = options.modelJsonPath ?? 'model.json';
  const declaredJson = options.maxBytesOf?.(modelJsonPath);
  const jsonCap =
    declaredJson !== undefined && declaredJson <= limits.maxJsonBytes
      ? { maxBytes: declaredJson, declared: true }
      : { maxBytes: limits.maxJsonBytes };
  const jsonBytes = await readArtifact(reader, base, modelJsonPath, jsonCap);
  options.verifyFile?.(modelJsonPath, jsonBytes);
  const checked = checkModelJson(jsonBytes, limits, `${base}${modelJsonPath}`);
  const directory = modelJsonPath.includes('/')
    ? modelJsonPath.slice(0, modelJsonPath.lastIndexOf('/') + 1)
    : '';

  const weightData = new Uint8Array(checked.weightBytes);
  let offset = 0;
  for (const shardPath of checked.shardPaths) {
    const path = `${directory}${shardPath}`;
    const shard = await readArtifact(reader, base, path, {
      maxBytes: Math.min(checked.weightBytes - offset, options.maxBytesOf?.(path) ?? Infinity),
      declared: true,
    });
    if (offset + shard.byteLength > checked.weightBytes) {
      throw new ModelArtifactError(
        'ARTIFACT_INTEGRITY_MISMATCH',
        `weight shards hold more than the ${checked.weightBytes} bytes the manifest declares`,
      );
    }
    options.verifyFile?.(path, shard);
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  if (offset !== checked.weightBytes) {
    throw new ModelArtifactError(
      'ARTIFACT_INTEGRITY_MISMATCH',
      `weight shards hold ${offset} bytes, the manifest declares ${checked.weightBytes}`,
    );
  }
  const { json } = checked;
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: checked.weightSpecs,
    weightData: weightData.buffer,
    format: json.format,
    generatedBy: json.generatedBy ?? undefined,
    convertedBy: json.convertedBy ?? undefined,
    trainingConfig: (json.trainingConfig ?? undefined) as tf.io.ModelArtifacts['trainingConfig'],
  };
}

/** Loads artifacts into a tf.LayersModel, mapping tfjs deserialization errors to ARTIFACT_MODEL_INVALID. */
export async function loadLayersModelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ModelArtifactError('ARTIFACT_MODEL_INVALID', `tfjs could not build the model: ${message}`, {
      cause: error,
    });
  }
}

export async function loadLayersModelFromStore(
  reader: ArtifactReader,
  prefix: string,
  options: ReadModelOptions = {},
): Promise<tf.LayersModel> {
  return loadLayersModelFromArtifacts(await readLayersModelArtifacts(reader, prefix, options));
}
