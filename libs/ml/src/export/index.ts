export { ModelArtifactError } from './artifact-errors';
export type { ModelArtifactErrorCode } from './artifact-errors';
export { DEFAULT_ARTIFACT_LIMITS } from './artifact-limits';
export type { ArtifactLimits } from './artifact-limits';
export { assertSafeRelativePath, joinKey, normalizePrefix } from './artifact-paths';
export type { ArtifactReader, ArtifactWriter } from './artifact-store';
export { EXPORT_FORMAT_VERSION, EXPORT_MANIFEST_FILE, exportManifestSchema } from './export-manifest';
export type { ExportedFile, ExportInput, ExportManifest } from './export-manifest';
export { exportModel } from './export-model';
export type { ExportModelInfo } from './export-model';
export { FileSystemArtifactStore } from './fs-artifact-store';
export {
  buildExportedModel,
  loadExportedModel,
  readExportedArtifacts,
  readExportManifest,
} from './load-exported-model';
export type { ExportedArtifacts, ExportedModel } from './load-exported-model';
export { InMemoryArtifactStore } from './memory-artifact-store';
export { loadLayersModelFromStore, readLayersModelArtifacts } from './read-layers-model';
export type { ReadModelOptions } from './read-layers-model';
export { DEFAULT_SHARD_BYTES, saveLayersModel } from './save-layers-model';
export type { SavedFile, SaveLayersModelOptions } from './save-layers-model';
export { classifyImages } from './classify-images';
export type { ClassifyImagesOptions, ClassScore, ImageClassification } from './classify-images';
export { foldBatchNorm } from './fold-batch-norm';
export type { FoldResult } from './fold-batch-norm';
