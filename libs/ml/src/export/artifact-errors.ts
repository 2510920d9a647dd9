export type ModelArtifactErrorCode =
  | 'ARTIFACT_PATH_UNSAFE'
  | 'ARTIFACT_MANIFEST_INVALID'
  | 'ARTIFACT_TOO_LARGE'
  | 'ARTIFACT_INTEGRITY_MISMATCH'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_MODEL_INVALID'
  | 'ARTIFACT_MODEL_MISMATCH';

/** A stored model (model.json, weight shards, manifest.json) was refused or could not be read. */
export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';

  constructor(
    readonly code: ModelArtifactErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
