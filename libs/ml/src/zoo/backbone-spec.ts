import type * as tf from '@tensorflow/tfjs';
import type { BackboneSpec, ImageInputSize } from '../catalogue/backbone-spec';

export interface LoadBackboneOptions {
  /** Input size override, for resizable backbones. */
  inputSize?: { height: number; width: number; channels?: 1 | 3 };
  /** Seed for randomly initialized weights (builder backbones). Default 42. */
  seed?: number;
  /** Architecture of a `nas_cnn` backbone (libs/ml search `parseArch`); default DEFAULT_NAS_ARCH. */
  arch?: string;
}

/** A backbone model whose single output is the feature layer's output. */
export interface LoadedBackbone {
  spec: BackboneSpec;
  /** The input size this instance was built for. */
  input: ImageInputSize;
  model: tf.LayersModel;
}
