import * as tf from '@tensorflow/tfjs';
import {
  SMALL_CNN_FEATURE_LAYER,
  SMALL_CNN_WIDTHS,
  smallCnnFeatureDim,
  type SmallCnnWidth,
} from '../catalogue/small-cnn-shape';

export interface SmallCnnOptions {
  width: SmallCnnWidth;
  inputShape: [number, number, 1 | 3];
  /** Seed of the weight initializers; the same seed gives the same initial weights. Default 42. */
  seed?: number;
}

/**
 * A small CNN for 28-64 px images: blocks of [conv3x3-relu, conv3x3-relu, maxpool2] (2 blocks up
 * to 32 px, 3 above), then flatten and a dense ReLU layer named 'features'. Its output is the
 * feature vector; add a head with buildClassifier.
 */
export function buildSmallCnn(options: SmallCnnOptions): tf.LayersModel {
  const [height, width, channels] = options.inputShape;
  const base = SMALL_CNN_WIDTHS[options.width];
  let seed = options.seed ?? 42;
  const nextInit = (): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: seed++ });
  const blocks = Math.max(height, width) > 32 ? 3 : 2;

  const input = tf.input({ shape: [height, width, channels], name: 'input' });
  let x: tf.SymbolicTensor = input;
  for (let b = 0; b < blocks; b++) {
    const filters = base * 2 ** b;
    for (let c = 0; c < 2; c++) {
      x = tf.layers
        .conv2d({
          filters,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: nextInit(),
          name: `block${b + 1}_conv${c + 1}`,
        })
        .apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers
      .maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` })
      .apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const features = tf.layers
    .dense({
      units: smallCnnFeatureDim(options.width),
      activation: 'relu',
      kernelInitializer: nextInit(),
      name: SMALL_CNN_FEATURE_LAYER,
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: features, name: `small_cnn_${options.width}` });
}
