import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelArtifactError } from './artifact-errors';
import type { ArtifactLimits } from './artifact-limits';
import { assertSafeRelativePath } from './artifact-paths';

const MAX_DIM = 1 << 24;

const weightSpecSchema = z.object({
  name: z.string().min(1).max(512),
  shape: z.array(z.number().int().min(0).max(MAX_DIM)).max(8),
  dtype: z.enum(['float32', 'int32', 'bool', 'complex64']),
  group: z.enum(['model', 'optimizer']).optional(),
  quantization: z
    .object({
      scale: z.number().finite().optional(),
      min: z.number().finite().optional(),
      dtype: z.enum(['uint16', 'uint8', 'float16']),
    })
    .optional(),
});

/** The tfjs `model.json` of a layers model (format 'layers-model', or unset in older converters). */
export const tfjsModelJsonSchema = z.object({
  format: z.literal('layers-model').optional(),
  generatedBy: z.string().max(256).nullish(),
  convertedBy: z.string().max(256).nullish(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z
    .array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(weightSpecSchema) }))
    .min(1),
  trainingConfig: z.record(z.string(), z.unknown()).nullish(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
});

export type TfjsModelJson = z.infer<typeof tfjsModelJsonSchema>;
export type WeightSpec = z.infer<typeof weightSpecSchema>;

/** Bytes a weight occupies in the concatenated weight data. */
export function weightByteLength(spec: WeightSpec): number {
  const elements = spec.shape.reduce((product, dim) => product * dim, 1);
  if (spec.quantization) return elements * (spec.quantization.dtype === 'uint8' ? 1 : 2);
  switch (spec.dtype) {
    case 'float32':
    case 'int32':
      return elements * 4;
    case 'bool':
      return elements;
    case 'complex64':
      return elements * 8;
  }
}

export interface CheckedModelJson {
  json: TfjsModelJson;
  /** Shard paths in the order their bytes concatenate. */
  shardPaths: string[];
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Total weight bytes declared by the specs. */
  weightBytes: number;
}

/** Parses and validates model.json bytes: schema, safe shard paths, declared sizes within limits. */
export function checkModelJson(
  bytes: Uint8Array,
  limits: ArtifactLimits,
  what = 'model.json',
): CheckedModelJson {
  if (bytes.byteLength > limits.maxJsonBytes) {
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `${what} is ${bytes.byteLength} bytes, over the ${limits.maxJsonBytes}-byte cap`,
    );
  }
  const json = parseJson(bytes, what);
  const parsed = tfjsModelJsonSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelArtifactError(
      'ARTIFACT_MANIFEST_INVALID',
      `${what} is not a tfjs layers model: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const shardPaths = parsed.data.weightsManifest.flatMap((group) => group.paths);
  if (shardPaths.length > limits.maxShards) {
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `${what} lists ${shardPaths.length} shards, over the cap of ${limits.maxShards}`,
    );
  }
  for (const path of shardPaths) assertSafeRelativePath(path, 'weight shard');
  if (new Set(shardPaths).size !== shardPaths.length) {
    throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', `${what} lists a weight shard twice`);
  }
  const weightSpecs = parsed.data.weightsManifest.flatMap((group) => group.weights);
  if (weightSpecs.length > limits.maxWeights) {
    throw new ModelArtifactError(
      'ARTIFACT_TOO_LARGE',
      `${what} declares ${weightSpecs.length} weights, over the cap of ${limits.maxWeights}`,
    );
  }
  let weightBytes = 0;
  for (const spec of weightSpecs) {
    weightBytes += weightByteLength(spec);
    if (!Number.isSafeInteger(weightBytes) || weightBytes > limits.maxWeightBytes) {
      throw new ModelArtifactError(
        'ARTIFACT_TOO_LARGE',
        `${what} declares more than ${limits.maxWeightBytes} bytes of weights`,
      );
    }
  }
  return { json: parsed.data, shardPaths, weightSpecs: weightSpecs, weightBytes };
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (error) {
    throw new ModelArtifactError('ARTIFACT_MANIFEST_INVALID', `${what} is not valid UTF-8 JSON`, {
      cause: error,
    });
  }
}
