import * as tf from '@tensorflow/tfjs';
import { parseArch, stageStride } from '../search/arch';

export const NAS_CNN_FEATURE_LAYER = 'features';

export interface NasCnnOptions {
  /** Architecture string (libs/ml search `parseArch`), e.g. `s16-c24x1-m32x2e4-m64x2e4`. */
  arch: string;
  inputShape: [number, number, 1 | 3];
  /** Seed of the weight initializers. Default 42. */
  seed?: number;
}

/**
 * The searched convnet: stem conv3x3-BN-ReLU, then per stage `depth` blocks ('conv': conv3x3-BN-ReLU;
 * 'mb': MobileNetV2 inverted residual, 1x1 expand-BN-ReLU6, depthwise 3x3-BN-ReLU6, 1x1 project-BN,
 * plus the input when stride 1 and widths match); a stage's first block has stride 2 while the map
 * is at least 8 px. The output is the last spatial map, the layer named 'features'; the classifier
 * pools it. Only standard layers, so exported models load anywhere tfjs does. Mirrors `archCost`.
 */
export function buildNasCnn(options: NasCnnOptions): tf.LayersModel {
  const a = parseArch(options.arch);
  const [height, width, channels] = options.inputShape;
  let seed = options.seed ?? 42;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  let side = Math.min(height, width);
  let n = 0;
  const name = (kind: string) => `nas_${kind}_${n++}`;
  const input = tf.input({ shape: [height, width, channels], name: 'input' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;
  // Batch-norm momentum 0.5: searches train few steps, and slow moving statistics leave inference
  // far from training. The default architecture on 1,000 MNIST digits (batch 32, Adam 1e-3, 400
  // held out, wasm), 1 epoch: 0.11 accuracy at momentum 0.9, 0.55 at 0.5; 3 epochs: 0.84 vs 0.85.
  const bn = (x: tf.SymbolicTensor) =>
    apply(tf.layers.batchNormalization({ momentum: 0.5, name: name('bn') }), x);
  const conv = (x: tf.SymbolicTensor, filters: number, k: number, stride: number) =>
    apply(
      tf.layers.conv2d({
        filters,
        kernelSize: k,
        strides: stride,
        padding: 'same',
        useBias: true,
        kernelInitializer: init(),
        name: name(`conv${k}`),
      }),
      x,
    );
  const act = (x: tf.SymbolicTensor, six: boolean, last = false) =>
    apply(
      six
        ? tf.layers.reLU({ maxValue: 6, name: last ? NAS_CNN_FEATURE_LAYER : name('relu6') })
        : tf.layers.activation({ activation: 'relu', name: last ? NAS_CNN_FEATURE_LAYER : name('relu') }),
      x,
    );

  let x = act(bn(conv(input, a.stem, 3, 1)), false, false);
  let c = a.stem;
  const blocks = a.stages.reduce((s, st) => s + st.depth, 0);
  let b = 0;
  for (const s of a.stages) {
    for (let d = 0; d < s.depth; d++, b++) {
      const last = b === blocks - 1;
      const stride = d === 0 ? stageStride(side) : 1;
      if (stride === 2) side = Math.ceil(side / 2);
      if (s.block === 'conv') {
        x = act(bn(conv(x, s.width, 3, stride)), false, last);
      } else {
        const inp = x;
        let y = act(bn(conv(x, c * s.expand, 1, 1)), true);
        y = bn(
          apply(
            tf.layers.depthwiseConv2d({
              kernelSize: 3,
              strides: stride,
              padding: 'same',
              depthwiseInitializer: init(),
              name: name('dw3'),
            }),
            y,
          ),
        );
        y = act(y, true);
        y = bn(conv(y, s.width, 1, 1));
        if (stride === 1 && c === s.width)
          y = tf.layers.add({ name: name('add') }).apply([inp, y]) as tf.SymbolicTensor;
        // The block's output: identity activation so the last block's output is named 'features'.
        x = last ? apply(tf.layers.activation({ activation: 'linear', name: NAS_CNN_FEATURE_LAYER }), y) : y;
      }
      c = s.width;
    }
  }
  return tf.model({ inputs: input, outputs: x, name: 'nas_cnn' });
}
