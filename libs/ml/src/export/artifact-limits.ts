/** Caps applied before and while reading stored models, against oversized or hostile artifacts. */
export interface ArtifactLimits {
  /** Largest accepted model.json / manifest.json, in bytes. */
  maxJsonBytes: number;
  /** Largest accepted total weight data, in bytes (declared by the manifest and actually read). */
  maxWeightBytes: number;
  /** Largest accepted number of weight shard files. */
  maxShards: number;
  /** Largest accepted number of weight tensors. */
  maxWeights: number;
}

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = {
  maxJsonBytes: 32 * 1024 * 1024,
  maxWeightBytes: 512 * 1024 * 1024,
  maxShards: 1024,
  maxWeights: 10_000,
};

export function resolveLimits(overrides?: Partial<ArtifactLimits>): ArtifactLimits {
  return { ...DEFAULT_ARTIFACT_LIMITS, ...overrides };
}
