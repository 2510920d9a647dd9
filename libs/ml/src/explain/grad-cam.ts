import * as tf from '@tensorflow/tfjs';
import { ExplainError } from './explain-error';
import { checkImage, imageTensor, targetSum } from './model-fn';
import type { Attribution, ModelImage } from './types';

export interface GradCamOptions {
  target?: number;
  /**
   * 'position' (default): map = ReLU(Σ_k ∂y_t/∂A_k ⊙ A_k), the gradient kept per position (HiResCAM,
   * Draelos & Carin 2020). Equal to the paper's map when the head global-average-pools the feature
   * map (the gradient is then the same at every position), and faithful to a flatten + dense head.
   * 'pooled': the paper's α_k = mean over positions of ∂y_t/∂A_k, map = ReLU(Σ_k α_k A_k).
   */
  weights?: 'position' | 'pooled';
}

export interface GradCamResult extends Attribution {
  method: 'grad-cam';
  /** Name of the layer whose output is the feature map. */
  layer: string;
  /** The class activation map at the feature map's resolution, ReLU applied (fh*fw). */
  cam: Float32Array;
  camShape: [number, number];
}

interface Split {
  /** image -> last spatial feature map */
  features: tf.LayersModel;
  layer: string;
  /** feature map -> class scores (logits when the last layer is a softmax dense layer) */
  head: (featureMap: tf.Tensor) => tf.Tensor2D;
}

interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
}
interface GraphLayer {
  inboundNodes: GraphNode[];
}

const POOLING = new Set(['MaxPooling2D', 'AveragePooling2D']);

const splits = new WeakMap<tf.LayersModel, Split>();

/** Dense + softmax as logits: the class score before the softmax, as Grad-CAM uses. */
function denseLogits(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor2D {
  const [kernel, bias] = layer.getWeights();
  const logits = tf.matMul(x, kernel);
  return (bias ? tf.add(logits, bias) : logits) as tf.Tensor2D;
}

/**
 * Splits a classifier at its last spatial (rank-4) feature map: walks back from the output through
 * single-input layers (pooling, flatten, dropout, dense) until a layer's input is [n, h, w, c].
 * The layers after it must form a chain (true of the zoo's classifiers: small CNN and MobileNetV2).
 */
export function splitAtFeatureMap(model: tf.LayersModel): Split {
  const cached = splits.get(model);
  if (cached) return cached;
  const chain: tf.layers.Layer[] = [];
  let tensor = model.outputs[0];
  // The last convolution's map: past a final pooling layer too (the paper uses the last conv layer).
  const pooling = (t: tf.SymbolicTensor) => POOLING.has(t.sourceLayer.getClassName());
  while (tensor.shape.length !== 4 || pooling(tensor)) {
    const layer = tensor.sourceLayer;
    const node = (layer as unknown as GraphLayer).inboundNodes[tensor.nodeIndex];
    if (!node || node.inputTensors.length !== 1 || model.inputs.includes(tensor))
      throw new ExplainError(
        'EXPLAIN_UNSUPPORTED_MODEL',
        `grad-cam needs a chain of single-input layers after the last spatial feature map; ${layer.name} is not one`,
      );
    chain.unshift(layer);
    tensor = node.inputTensors[0];
  }
  if (model.inputs.includes(tensor))
    throw new ExplainError('EXPLAIN_UNSUPPORTED_MODEL', 'the model has no spatial feature map');
  const features = tf.model({ inputs: model.inputs, outputs: tensor });
  const last = chain[chain.length - 1];
  const lastIsSoftmaxDense =
    last.getClassName() === 'Dense' && (last.getConfig() as { activation?: string }).activation === 'softmax';
  const head = (featureMap: tf.Tensor): tf.Tensor2D => {
    let x = featureMap;
    chain.forEach((layer, i) => {
      x =
        i === chain.length - 1 && lastIsSoftmaxDense
          ? denseLogits(layer, x)
          : (layer.apply(x, { training: false }) as tf.Tensor);
    });
    return x as tf.Tensor2D;
  };
  const split = { features, layer: tensor.sourceLayer.name, head };
  splits.set(model, split);
  return split;
}

/**
 * Grad-CAM (Selvaraju et al. 2017) on the last convolution's feature map A (y_t the class logit):
 * map = ReLU(Σ_k w_k ⊙ A_k) with w the gradient ∂y_t/∂A, per position by default or averaged over
 * positions (the paper's α_k, `weights: 'pooled'`), bilinearly upsampled to the image size. The two
 * are equal for global-average-pooled heads (MobileNetV2's); with the small CNN's flatten + dense
 * head the pooled weights put the map on the background (deletion test: no better than random, see
 * docs/interpretability.md). One forward pass and one backward pass through the head only.
 */
export async function gradCam(
  model: tf.LayersModel,
  image: ModelImage,
  options: GradCamOptions = {},
): Promise<GradCamResult> {
  const started = Date.now();
  checkImage(model, image, options.target);
  const split = splitAtFeatureMap(model);
  const [h, w] = image.shape;
  // One backbone pass: the class scores come from the head on the same feature map.
  const featureMap = tf.tidy(
    () => split.features.apply(imageTensor(image), { training: false }) as tf.Tensor4D,
  );
  const probs = tf.tidy(() => tf.softmax(split.head(featureMap)).reshape([-1]));
  const probabilities = (await probs.data()) as Float32Array;
  probs.dispose();
  const target = options.target ?? argmax(probabilities);
  const { cam, up, fh, fw } = tf.tidy(() => {
    const grads = tf.grad((a: tf.Tensor) => targetSum(split.head(a), target))(featureMap);
    const weights = options.weights === 'pooled' ? tf.mean(grads, [1, 2], true) : grads; // [1, 1|fh, 1|fw, k]
    const map = tf.relu(tf.sum(tf.mul(featureMap, weights), 3, true)) as tf.Tensor4D; // [1, fh, fw, 1]
    return {
      cam: map.reshape([-1]),
      up: tf.image.resizeBilinear(map, [h, w]).reshape([-1]),
      fh: featureMap.shape[1],
      fw: featureMap.shape[2],
    };
  });
  featureMap.dispose();
  const camValues = (await cam.data()) as Float32Array;
  const heatmap = (await up.data()) as Float32Array;
  tf.dispose([cam, up]);
  return {
    method: 'grad-cam',
    target,
    probability: probabilities[target],
    height: h,
    width: w,
    heatmap,
    layer: split.layer,
    cam: camValues,
    camShape: [fh, fw],
    modelImages: 1,
    ms: Date.now() - started,
  };
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
