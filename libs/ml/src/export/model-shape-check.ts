import type * as tf from '@tensorflow/tfjs';
import { ModelArtifactError } from './artifact-errors';
import type { ExportInput } from './export-manifest';

/** Checks a model's input and output shapes against the manifest's input description and class count. */
export function assertModelMatches(model: tf.LayersModel, input: ExportInput, classCount: number): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelArtifactError(
      'ARTIFACT_MODEL_MISMATCH',
      'model must have exactly one input and one output',
    );
  }
  const inputShape = model.inputs[0].shape;
  const expected =
    input.kind === 'image'
      ? [null, input.height, input.width, input.channels]
      : [null, input.features.length];
  if (JSON.stringify(inputShape) !== JSON.stringify(expected)) {
    throw new ModelArtifactError(
      'ARTIFACT_MODEL_MISMATCH',
      `model input ${JSON.stringify(inputShape)} differs from ${JSON.stringify(expected)}`,
    );
  }
  const outputShape = model.outputs[0].shape;
  if (outputShape.length !== 2 || outputShape[1] !== classCount) {
    throw new ModelArtifactError(
      'ARTIFACT_MODEL_MISMATCH',
      `model output ${JSON.stringify(outputShape)} does not give ${classCount} class scores`,
    );
  }
}
