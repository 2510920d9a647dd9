import * as tf from '@tensorflow/tfjs';

type NodeRef = [string, number, number, Record<string, unknown>?];
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: NodeRef[][];
}
interface ModelJson {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: NodeRef[]; output_layers: NodeRef[] };
  keras_version?: string;
  backend?: string;
}

export interface FoldResult {
  /** The model to use: a new one when something was folded (the caller disposes the old one), else the same. */
  model: tf.LayersModel;
  /** Batch-norm layers folded into the convolution before them. */
  folded: number;
}

const CONVS = new Set(['Conv2D', 'DepthwiseConv2D']);

/**
 * Inference-only rewrite of a functional layers model: every BatchNormalization layer (channels-last)
 * that directly follows a Conv2D or DepthwiseConv2D without activation, whose output nothing else
 * reads, is folded into that convolution (kernel scaled by gamma / sqrt(variance + epsilon) per output
 * channel, bias = beta + (bias - mean) * that scale), and removed. The result computes the same
 * function up to float rounding, with one pass over each such activation map fewer (MobileNetV2 has
 * 52 of them). Models that are not functional, or have nothing to fold, are returned as they are.
 * The new model is for prediction: its convolutions now carry the statistics, so it must not be trained.
 */
export async function foldBatchNorm(model: tf.LayersModel): Promise<FoldResult> {
  const topology = model.toJSON(undefined, false) as unknown as ModelJson;
  if (topology.class_name !== 'Model' && topology.class_name !== 'Functional') return { model, folded: 0 };
  const layers = topology.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  /** How many inputs read each output tensor (`layer:node:tensor`). */
  const readers = new Map<string, number>();
  const read = ([layer, node, tensor]: NodeRef) => {
    const key = `${layer}:${node}:${tensor}`;
    readers.set(key, (readers.get(key) ?? 0) + 1);
  };
  for (const l of layers) for (const node of l.inbound_nodes) node.forEach(read);
  topology.config.output_layers.forEach(read);

  /** BN name -> conv name */
  const pairs = new Map<string, string>();
  for (const bn of layers) {
    if (
      bn.class_name !== 'BatchNormalization' ||
      bn.inbound_nodes.length !== 1 ||
      bn.inbound_nodes[0].length !== 1
    )
      continue;
    const axis = bn.config.axis;
    if (!(
      axis === -1 ||
      axis === 3 ||
      (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))
    ))
      continue;
    const [producer, nodeIndex, tensorIndex] = bn.inbound_nodes[0][0];
    const conv = byName.get(producer);
    if (
      !conv ||
      !CONVS.has(conv.class_name) ||
      conv.inbound_nodes.length !== 1 ||
      nodeIndex !== 0 ||
      tensorIndex !== 0
    )
      continue;
    if ((conv.config.activation ?? 'linear') !== 'linear' || readers.get(`${producer}:0:0`) !== 1) continue;
    pairs.set(bn.name, producer);
  }
  if (pairs.size === 0) return { model, folded: 0 };

  const convToBn = new Map([...pairs].map(([bn, conv]) => [conv, bn]));
  const rewire = (ref: NodeRef): NodeRef =>
    pairs.has(ref[0])
      ? ([pairs.get(ref[0])!, ref[1], ref[2], ...(ref.length > 3 ? [ref[3]] : [])] as NodeRef)
      : ref;
  const folded: ModelJson = {
    ...topology,
    config: {
      ...topology.config,
      layers: layers
        .filter((l) => !pairs.has(l.name))
        .map((l) => ({
          ...l,
          config: convToBn.has(l.name) ? { ...l.config, use_bias: true } : l.config,
          inbound_nodes: l.inbound_nodes.map((node) => node.map(rewire)),
        })),
      output_layers: topology.config.output_layers.map(rewire),
    },
  };
  const rebuilt = await tf.models.modelFromJSON({ modelTopology: folded } as unknown as Parameters<
    typeof tf.models.modelFromJSON
  >[0]);
  try {
    for (const layer of rebuilt.layers) {
      const original = model.getLayer(layer.name);
      const bnName = convToBn.get(layer.name);
      const values = bnName ? foldedWeights(original, model.getLayer(bnName)) : original.getWeights();
      layer.setWeights(values);
      if (bnName) tf.dispose(values);
    }
  } catch (e) {
    rebuilt.dispose();
    throw e;
  }
  return { model: rebuilt, folded: pairs.size };
}

/** [kernel, bias] of `conv` with the inference-mode batch norm `bn` after it folded in. */
function foldedWeights(conv: tf.layers.Layer, bn: tf.layers.Layer): tf.Tensor[] {
  const named = (layer: tf.layers.Layer, suffix: string) =>
    layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
  const kernelVar = conv.weights[0];
  const biasVar = conv.weights[1];
  const [, , inChannels, last] = kernelVar.shape as number[];
  const outChannels = conv.getClassName() === 'DepthwiseConv2D' ? inChannels * last : last;
  const values = (suffix: string, fallback: number) =>
    named(bn, suffix)?.read().dataSync<'float32'>() ?? new Float32Array(outChannels).fill(fallback);
  const gamma = values('gamma', 1);
  const beta = values('beta', 0);
  const mean = values('moving_mean', 0);
  const variance = values('moving_variance', 1);
  const epsilon = (bn.getConfig().epsilon as number | undefined) ?? 1e-3;
  const scale = new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
  const bias = new Float32Array(outChannels);
  const oldBias = biasVar ? biasVar.read().dataSync<'float32'>() : new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) bias[c] = beta[c] + (oldBias[c] - mean[c]) * scale[c];
  // Both kernels are [kh, kw, in, out | multiplier]; their flattened last two axes index the output channel
  // (Conv2D: out is the last axis; DepthwiseConv2D: channel = in * multiplier + m, the last two axes).
  const kernel = kernelVar.read().dataSync<'float32'>().slice();
  for (let i = 0; i < kernel.length; i++) kernel[i] *= scale[i % outChannels];
  return [tf.tensor(kernel, kernelVar.shape as number[]), tf.tensor1d(bias)];
}
