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
}

/** Reads one key, turning a reader failure into ARTIFACT_NOT_FOUND. */
export async function readArtifact(reader: ArtifactReader, prefix: string, path: string): Promise<Uint8Array> {
  const key = joinKey(prefix, path);
  try {
    return await reader.get(key);
  } catch (error) {
    throw new ModelArtifactError('ARTIFACT_NOT_FOUND', `could not read ${key}`, { cause: error });
  }
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
  const jsonBytes = await readArtifact(reader, base, modelJsonPath);
  options.verifyFile?.(modelJsonPath, jsonBytes);
  const checked = checkModelJson(jsonBytes, limits, `${base}${modelJsonPath}`);
  const directory = modelJsonPath.includes('/') ? modelJsonPath.slice(0, modelJsonPath.lastIndexOf('/') + 1) : '';

  const weightData = new Uint8Array(checked.weightBytes);
  let offset = 0;
  for (const shardPath of checked.shardPaths) {
    const path = `${directory}${shardPath}`;
    const shard = await readArtifact(reader, base, path);
    if (offset + shard.byteLength > checked.weightBytes) {
      throw new ModelArtifactError('ARTIFACT_INTEGRITY_MISMATCH', `weight shards hold more than the ${checked.weightBytes} bytes the manifest declares`);
    }
    options.verifyFile?.(path, shard);
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  if (offset !== checked.weightBytes) {
    throw new ModelArtifactError('ARTIFACT_INTEGRITY_MISMATCH', `weight shards hold ${offset} bytes, the manifest declares ${checked.weightBytes}`);
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
    throw new ModelArtifactError('ARTIFACT_MODEL_INVALID', `tfjs could not build the model: ${message}`, { cause: error });
  }
}

export async function loadLayersModelFromStore(
  reader: ArtifactReader,
  prefix: string,
  options: ReadModelOptions = {},
): Promise<tf.LayersModel> {
  return loadLayersModelFromArtifacts(await readLayersModelArtifacts(reader, prefix, options));
}
