import { ModelArtifactError, type ExportManifest } from '@modelsmith/ml';

/** [height, width, channels] of an image model's input; refuses models that do not take images. */
export function imageShapeOf(manifest: ExportManifest): [number, number, number] {
  if (manifest.input.kind !== 'image' || manifest.normalization === null) {
    throw new ModelArtifactError(
      'ARTIFACT_MODEL_MISMATCH',
      `model task ${manifest.task} does not take images`,
    );
  }
  return [manifest.input.height, manifest.input.width, manifest.input.channels];
}
