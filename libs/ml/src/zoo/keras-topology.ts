import type * as tf from '@tensorflow/tfjs';
import { jsonClone } from './json-clone';
import { weightByteLength, type WeightSpec } from '../export/tfjs-model-json';
import { ZooError } from './zoo-errors';

interface KerasLayerJson {
  name?: string;
  class_name: string;
  config: { name: string; batch_input_shape?: Array<number | null> } & Record<string, unknown>;
  inbound_nodes: unknown[];
}

interface KerasModelConfig {
  name?: string;
  layers: KerasLayerJson[];
  input_layers: unknown[];
  output_layers: unknown[];
}

/** Finds the functional-model config in a tfjs modelTopology (Keras `model_config` wrapper or bare). */
function modelConfigOf(topology: Record<string, unknown>): KerasModelConfig {
  const wrapper = (topology['model_config'] ?? topology) as {
    class_name?: string;
    config?: KerasModelConfig;
  };
  const config = wrapper.config;
  if (
    !config ||
    !Array.isArray(config.layers) ||
    (wrapper.class_name !== 'Model' && wrapper.class_name !== 'Functional')
  ) {
    throw new ZooError('ZOO_SPEC_MISMATCH', 'topology is not a Keras functional model');
  }
  return config;
}

/** Names of the layers feeding a layer, read from Keras inbound_nodes ([[[name, node, tensor, kwargs], ...], ...]). */
function inboundNames(layer: KerasLayerJson): string[] {
  const names: string[] = [];
  for (const node of layer.inbound_nodes) {
    if (!Array.isArray(node)) continue;
    for (const edge of node as unknown[]) {
      if (Array.isArray(edge) && typeof edge[0] === 'string') names.push(edge[0]);
    }
  }
  return names;
}

export interface TruncatedTopology {
  topology: Record<string, unknown>;
  keptLayers: Set<string>;
}

/**
 * Returns a copy of a functional model topology that ends at `outputLayer` (only its ancestors are
 * kept), optionally with a new input shape [h, w, c] on its single InputLayer.
 */
export function truncateTopology(
  topology: Record<string, unknown>,
  outputLayer: string,
  inputShape?: [number, number, number],
): TruncatedTopology {
  const copy = jsonClone(topology);
  const config = modelConfigOf(copy);
  const byName = new Map(config.layers.map((layer) => [layer.config.name, layer]));
  if (!byName.has(outputLayer))
    throw new ZooError('ZOO_SPEC_MISMATCH', `topology has no layer named ${outputLayer}`);
  const kept = new Set<string>();
  const pending = [outputLayer];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (kept.has(name)) continue;
    kept.add(name);
    const layer = byName.get(name);
    if (!layer) throw new ZooError('ZOO_SPEC_MISMATCH', `topology references missing layer ${name}`);
    pending.push(...inboundNames(layer));
  }
  config.layers = config.layers.filter((layer) => kept.has(layer.config.name));
  config.output_layers = [[outputLayer, 0, 0]];
  if (inputShape) {
    const inputs = config.layers.filter((layer) => layer.class_name === 'InputLayer');
    if (inputs.length !== 1)
      throw new ZooError('ZOO_SPEC_MISMATCH', `expected one InputLayer, found ${inputs.length}`);
    inputs[0].config.batch_input_shape = [null, ...inputShape];
  }
  return { topology: copy, keptLayers: kept };
}

/** The layer a weight belongs to: the first segment of its name ('block_1_expand/kernel' -> 'block_1_expand'). */
function layerOfWeight(name: string): string {
  const slash = name.indexOf('/');
  return slash === -1 ? name : name.slice(0, slash);
}

/** Keeps the weight specs (and their bytes, in order) of the given layers. */
export function filterWeights(
  specs: readonly WeightSpec[],
  data: Uint8Array,
  keptLayers: ReadonlySet<string>,
): { weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
  const keptSpecs: WeightSpec[] = [];
  const ranges: Array<[number, number]> = [];
  let offset = 0;
  let keptBytes = 0;
  for (const spec of specs) {
    const length = weightByteLength(spec);
    if (keptLayers.has(layerOfWeight(spec.name))) {
      keptSpecs.push(spec);
      ranges.push([offset, offset + length]);
      keptBytes += length;
    }
    offset += length;
  }
  if (offset !== data.byteLength) {
    throw new ZooError(
      'ZOO_SPEC_MISMATCH',
      `weight data is ${data.byteLength} bytes, specs declare ${offset}`,
    );
  }
  const out = new Uint8Array(keptBytes);
  let position = 0;
  for (const [start, end] of ranges) {
    out.set(data.subarray(start, end), position);
    position += end - start;
  }
  return { weightSpecs: keptSpecs, weightData: out.buffer };
}
