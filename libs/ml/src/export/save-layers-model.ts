import * as tf from '@tensorflow/tfjs';
import { joinKey } from './artifact-paths';
import type { ArtifactWriter } from './artifact-store';
import { sha256Hex } from './sha256';

export interface SavedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface SaveLayersModelOptions {
  /** Largest weight shard, in bytes. Default 4 MiB (the tfjs converter's default). */
  shardBytes?: number;
}

export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** Concatenates tfjs weight data (one buffer or a list of buffers) into one byte array. */
function weightBytes(data: tf.io.ModelArtifacts['weightData']): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(tf.io.concatenateArrayBuffers(data));
}

/** Captures the artifacts tfjs produces when saving a model, without writing anywhere. */
export async function captureArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save({
    save: async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  if (!captured) throw new Error('tfjs did not hand over the model artifacts');
  return captured;
}

/**
 * Writes a tfjs layers model in the standard tfjs format under `prefix`: `model.json` plus
 * `group1-shardXofN.bin` weight shards (float32, unquantized), loadable by plain tfjs.
 * Returns the files written with their sizes and sha256.
 */
export async function saveLayersModel(
  model: tf.LayersModel,
  writer: ArtifactWriter,
  prefix: string,
  options: SaveLayersModelOptions = {},
): Promise<SavedFile[]> {
  const artifacts = await captureArtifacts(model);
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  const data = weightBytes(artifacts.weightData);
  const shardCount = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  const files: SavedFile[] = [];
  const shardPaths: string[] = [];
  for (let i = 0; i < shardCount; i++) {
    const path = `group1-shard${i + 1}of${shardCount}.bin`;
    const shard = data.subarray(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes));
    await writer.put(joinKey(prefix, path), shard, 'application/octet-stream');
    files.push({ path, size: shard.byteLength, sha256: sha256Hex(shard) });
    shardPaths.push(path);
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shardPaths, weights: artifacts.weightSpecs ?? [] }],
  };
  const jsonBytes = new TextEncoder().encode(JSON.stringify(modelJson));
  await writer.put(joinKey(prefix, 'model.json'), jsonBytes, 'application/json');
  files.unshift({ path: 'model.json', size: jsonBytes.byteLength, sha256: sha256Hex(jsonBytes) });
  return files;
}
