import type * as tf from '@tensorflow/tfjs';
import { loadLayersModelFromArtifacts } from '../export/read-layers-model';
import { filterWeights, truncateTopology } from './keras-topology';
import { readNsfwjsModel, type NsfwjsModelName } from './nsfwjs-source';

/**
 * Loads an nsfwjs model offline, truncated at `featureLayer` (the NSFW head is dropped before its
 * weights are materialized), with an optional new input size.
 */
export async function loadNsfwjsBackbone(
  name: NsfwjsModelName,
  featureLayer: string,
  inputShape: [number, number, number],
): Promise<tf.LayersModel> {
  const files = readNsfwjsModel(name);
  const { topology, keptLayers } = truncateTopology(files.modelJson.modelTopology, featureLayer, inputShape);
  const specs = files.modelJson.weightsManifest.flatMap((group) => group.weights);
  const { weightSpecs, weightData } = filterWeights(specs, files.weightData, keptLayers);
  return loadLayersModelFromArtifacts({
    modelTopology: topology,
    weightSpecs,
    weightData,
    format: 'layers-model',
    generatedBy: files.modelJson.generatedBy ?? undefined,
    convertedBy: files.modelJson.convertedBy ?? undefined,
  });
}
