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

const HEAD = { pool: 'head_pool', dropout: 'head_dropout', dense: 'head_dense' };

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
  if (x.shape.length === 4) {
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

/** A model mapping images to the backbone's feature vector [batch, featureDim] (pooled when spatial). */
export function buildFeatureExtractor(backbone: LoadedBackbone): tf.LayersModel {
  let x = backbone.model.outputs[0];
  if (x.shape.length === 4)
    x = tf.layers.globalAveragePooling2d({ name: 'feature_pool' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: backbone.model.inputs, outputs: x, name: `${backbone.spec.id}_feature_vector` });
}
