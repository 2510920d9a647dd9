import * as tf from '@tensorflow/tfjs';
import type { BackboneSpec, ImageInputSize } from '../catalogue/backbone-spec';
import type { LoadedBackbone } from './backbone-spec';
import { allLayers } from '../train/layers';
import { setBatchNormInference } from './batch-norm-mode';

export interface ClassifierOptions {
  numClasses: number;
  /** Dropout rate before the dense layer. Default 0.2. */
  dropout?: number;
  /** Seed of the head's initializer. Default 42. */
  seed?: number;
  /** Start with the backbone frozen (default true: train the head first). */
  freezeBackbone?: boolean;
  /**
   * How the backbone's BatchNormalization layers normalize while training: 'inference' (the default
   * for pretrained backbones) always uses their moving statistics and never updates them, frozen or
   * fine-tuned (gamma and beta still train when unfrozen); 'batch' is tfjs's behaviour (batch
   * statistics in training, moving averages updated; the default for backbones trained from scratch).
   * See setBatchNormInference for why pretrained backbones need 'inference'.
   */
  backboneBatchNorm?: 'inference' | 'batch';
  /**
   * What the head classifies: `last`, the backbone's output (average-pooled when spatial; the
   * default), or `multi`, the average-pooled activations of the backbone's {@link MULTI_LAYER_FEATURES}
   * layers joined into one vector (the backbone's output when it has no such list).
   */
  features?: 'last' | 'multi';
}

export interface Classifier {
  model: tf.LayersModel;
  backbone: BackboneSpec;
  input: ImageInputSize;
  /** Backbone layers that hold weights, input to output. */
  backboneLayers: tf.layers.Layer[];
  headLayers: tf.layers.Layer[];
  /** The feature vector [batch, dim] the head classifies (pooled when the backbone's output is spatial). */
  features: tf.SymbolicTensor;
  freezeBackbone(): void;
  /** Makes the last `lastLayers` weighted backbone layers trainable (all when omitted); earlier ones frozen. */
  unfreezeBackbone(options?: { lastLayers?: number }): void;
  /** Number of backbone layers currently trainable. */
  trainableBackboneLayers(): number;
  /** The BatchNormalization policy in force for the backbone. */
  backboneBatchNorm: 'inference' | 'batch';
}

const HEAD = { pool: 'head_pool', features: 'head_features', dropout: 'head_dropout', dense: 'head_dense' };

/**
 * Backbone (truncated at its feature layer) + new head: global average pooling when the features
 * are spatial, dropout, and a dense softmax layer with `numClasses` units.
 */
export function buildClassifier(backbone: LoadedBackbone, options: ClassifierOptions): Classifier {
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2)
    throw new RangeError('numClasses must be an integer >= 2');
  const names = new Set(backbone.model.layers.map((layer) => layer.name));
  const unique = (name: string): string => {
    let candidate = name;
    for (let i = 1; names.has(candidate); i++) candidate = `${name}_${i}`;
    names.add(candidate);
    return candidate;
  };
  const headLayers: tf.layers.Layer[] = [];
  let x = backbone.model.outputs[0];
  const layers = options.features === 'multi' ? MULTI_LAYER_FEATURES[backbone.spec.id] : undefined;
  if (layers) {
    const pooled = layers.map((name) => {
      const pool = tf.layers.globalAveragePooling2d({ name: unique(`${HEAD.pool}_${name}`) });
      headLayers.push(pool);
      return pool.apply(backbone.model.getLayer(name).output) as tf.SymbolicTensor;
    });
    const join = tf.layers.concatenate({ name: unique(HEAD.features) });
    headLayers.push(join);
    x = join.apply(pooled) as tf.SymbolicTensor;
  } else if (x.shape.length === 4) {
    const pool = tf.layers.globalAveragePooling2d({ name: unique(HEAD.pool) });
    headLayers.push(pool);
    x = pool.apply(x) as tf.SymbolicTensor;
  }
  const dropout = tf.layers.dropout({ rate: options.dropout ?? 0.2, name: unique(HEAD.dropout) });
  const dense = tf.layers.dense({
    units: options.numClasses,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed ?? 42 }),
    name: unique(HEAD.dense),
  });
  headLayers.push(dropout, dense);
  const probabilities = dense.apply(dropout.apply(x)) as tf.SymbolicTensor;
  const model = tf.model({
    inputs: backbone.model.inputs,
    outputs: probabilities,
    name: `${backbone.spec.id}_classifier`,
  });

  const backboneLayers = backbone.model.layers.filter((layer) => layer.weights.length > 0);
  const backboneBatchNorm = options.backboneBatchNorm ?? (backbone.spec.pretrained ? 'inference' : 'batch');
  setBatchNormInference(allLayers(backbone.model), backboneBatchNorm === 'inference');
  const setTrainableFrom = (firstTrainable: number): void => {
    backboneLayers.forEach((layer, i) => {
      layer.trainable = i >= firstTrainable;
    });
  };
  const classifier: Classifier = {
    model,
    backbone: backbone.spec,
    input: backbone.input,
    backboneLayers,
    headLayers,
    features: x,
    freezeBackbone: () => setTrainableFrom(backboneLayers.length),
    unfreezeBackbone: (opts) =>
      setTrainableFrom(Math.max(0, backboneLayers.length - (opts?.lastLayers ?? backboneLayers.length))),
    trainableBackboneLayers: () => backboneLayers.filter((layer) => layer.trainable).length,
    backboneBatchNorm,
  };
  if (options.freezeBackbone ?? true) classifier.freezeBackbone();
  else classifier.unfreezeBackbone();
  return classifier;
}

/**
 * Layers whose average-pooled activations {@link multiLayerFeatureExtractor} joins, per backbone id:
 * for MobileNetV2 the expansion activations of blocks 6, 13 and 16 and the last one. nsfwjs trained
 * these backbones to tell NSFW classes apart; the middle layers keep more general image features than
 * the last (held-out label scores on food photos and clip-art stamps: bench/mislabel-clean.ts --features=multi).
 */
export const MULTI_LAYER_FEATURES: Readonly<Record<string, readonly string[]>> = {
  mobilenet_v2: ['block_6_expand_relu', 'block_13_expand_relu', 'block_16_expand_relu', 'out_relu'],
};

/**
 * The average-pooled activations of the backbone's {@link MULTI_LAYER_FEATURES} layers joined into one
 * vector (MobileNetV2: 192 + 576 + 960 + 1280 = 3,008 values); the feature-vector model of
 * {@link buildFeatureExtractor} for backbones without such a list.
 */
export function multiLayerFeatureExtractor(backbone: LoadedBackbone): tf.LayersModel {
  const names = MULTI_LAYER_FEATURES[backbone.spec.id];
  if (!names) return buildFeatureExtractor(backbone);
  const pooled = names.map((name) => {
    const out = backbone.model.getLayer(name).output as tf.SymbolicTensor;
    return tf.layers.globalAveragePooling2d({ name: `${name}_pool` }).apply(out) as tf.SymbolicTensor;
  });
  const joined = tf.layers.concatenate({ name: 'multi_layer_features' }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({
    inputs: backbone.model.inputs,
    outputs: joined,
    name: `${backbone.spec.id}_multi_layer`,
  });
}

/** A model mapping images to the backbone's feature vector [batch, featureDim] (pooled when spatial). */
export function buildFeatureExtractor(backbone: LoadedBackbone): tf.LayersModel {
  let x = backbone.model.outputs[0];
  if (x.shape.length === 4)
    x = tf.layers.globalAveragePooling2d({ name: 'feature_pool' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: backbone.model.inputs, outputs: x, name: `${backbone.spec.id}_feature_vector` });
}
