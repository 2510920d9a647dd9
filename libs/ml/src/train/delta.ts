import * as tf from '@tensorflow/tfjs';
import { TrainConfigError } from './errors';
import { isNoDecayWeight } from './layers';
import { loopTurns } from './loop-turns';
import { categoricalCrossentropy } from './losses';
import type { WeightRegularizer } from './regularizers';

type Layer = tf.layers.Layer;
type LayerVariable = tf.LayerVariable;

/**
 * DELTA defaults (Li, Xiong, Wang, Huan, Ye, Dou, ICLR 2019, "DELTA: DEep Learning Transfer using
 * Feature Map with Attention"): alpha 0.01 on the feature-map distance and beta 0.01 on the new
 * head's L2, as in the authors' experiments; the channel attention is a softmax over the
 * standardized loss increases divided by a temperature of 5, as in the reference implementation.
 */
export const DELTA_DEFAULTS = { alpha: 0.01, beta: 0.01, temperature: 5 } as const;

export interface DELTAOptions {
  /** The classifier being trained (its last output is the softmax probabilities). */
  model: tf.LayersModel;
  /** Backbone layers whose [n, h, w, c] outputs are the regularized feature maps. */
  layers: Layer[];
  /** New weights decayed toward 0 with strength beta (biases and normalisation parameters excluded). */
  head: LayerVariable[];
  /** Strength of the attention-weighted feature-map distance. Default 0.01. */
  alpha?: number;
  /** Strength of the head's L2. Default 0.01. */
  beta?: number;
  /** Softmax temperature of the channel attention. Default 5. */
  temperature?: number;
  /** Apply the feature-map penalty only while this is true (e.g. only when the backbone trains). */
  when?: () => boolean;
}

/** A DELTA regularizer: call {@link DELTARegularizer.computeAttention} before the backbone trains. */
export interface DELTARegularizer extends WeightRegularizer {
  /**
   * The channel attention from labelled training images: for every regularized channel, the mean
   * increase of the model's loss on (xs, ys) when that channel's output is zeroed (in inference
   * mode), turned into weights that sum to 1 per layer. Until called, every channel weighs 1/C.
   * Returns the weights per layer.
   */
  computeAttention(xs: tf.Tensor, ys: tf.Tensor): Promise<number[][]>;
  /** The current attention weights per layer. */
  attention(): number[][];
  /** Names of the regularized layers. */
  readonly layerNames: string[];
}

/**
 * The feature-map layers DELTA regularizes in a backbone: for each output resolution, the last of its
 * narrowest BatchNormalization layers (in bottleneck networks: the stage's output, before the
 * residual addition), keeping the `max` deepest resolutions (4, like the authors' four ResNet stages).
 * Backbones without BatchNormalization fall back to their Conv2D layers with the same rule.
 */
export function deltaLayers(backboneLayers: readonly Layer[], max = 4): Layer[] {
  const spatial = (l: Layer): number[] | undefined => {
    const shape = l.outputShape as (number | null)[];
    return Array.isArray(shape) && shape.length === 4 && typeof shape[3] === 'number'
      ? [shape[1] ?? 0, shape[2] ?? 0, shape[3]]
      : undefined;
  };
  const pick = (cls: string): Layer[] => {
    const byRes = new Map<string, Layer>();
    for (const l of backboneLayers) {
      if (l.getClassName() !== cls) continue;
      const s = spatial(l);
      if (!s) continue;
      const key = `${s[0]}x${s[1]}`;
      const current = byRes.get(key);
      // Later layers replace earlier ones of the same width; narrower ones always win.
      if (!current || s[2] <= (spatial(current)?.[2] ?? Infinity)) byRes.set(key, l);
    }
    const order = new Map(backboneLayers.map((l, i) => [l, i]));
    return [...byRes.values()].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)).slice(-max);
  };
  const bn = pick('BatchNormalization');
  return bn.length > 0 ? bn : pick('Conv2D');
}

/** The weights of `layer` that produce output channel c when indexed on their last axis. */
function channelWeights(layer: Layer, channels: number): LayerVariable[] {
  return layer.weights.filter((w) => {
    const base = w.originalName.split('/').pop() ?? '';
    return /^(gamma|beta|kernel|bias)/.test(base) && w.shape[w.shape.length - 1] === channels;
  });
}

/** softmax((d - mean) / std / temperature); uniform when every d is the same. */
function attentionFrom(d: number[], temperature: number): number[] {
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  const z = d.map((v) => (std > 0 ? (v - mean) / std / temperature : 0));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * DELTA (Li et al., ICLR 2019): keeps the fine-tuned network's outer-layer feature maps close to those
 * of the pretrained network on the same (augmented) batch, each channel weighted by how much the
 * target task's loss depends on it, and decays the new head:
 *
 *   alpha/2 * mean_batch sum_layers sum_c (C * W_c) * mean_hw (FM_c(w, x) - FM_c(w0, x))^2
 *     + beta/2 * ||w_head||^2
 *
 * FM(w0, x) comes from a frozen copy of the pretrained layers (taken now: build it before any
 * training), applied in inference mode. W is uniform (1/C) until {@link DELTARegularizer.computeAttention}
 * runs, which the caller does once with a head trained on the frozen backbone (the paper's
 * procedure), i.e. at the start of fine-tuning. The penalty is differentiated with the loss (it
 * replaces the step's forward pass); the head's L2 is added to the gradients like L2-SP's.
 */
export async function delta(o: DELTAOptions): Promise<DELTARegularizer> {
  const alpha = o.alpha ?? DELTA_DEFAULTS.alpha;
  const beta = o.beta ?? DELTA_DEFAULTS.beta;
  const temperature = o.temperature ?? DELTA_DEFAULTS.temperature;
  if (!(alpha >= 0) || !(beta >= 0)) throw new TrainConfigError('delta: alpha and beta must be >= 0');
  if (!(temperature > 0)) throw new TrainConfigError('delta: temperature must be > 0');
  if (o.layers.length === 0) throw new TrainConfigError('delta: no feature-map layer to regularize');
  const maps = o.layers.map((l) => l.output as tf.SymbolicTensor);
  const channels = maps.map((m) => {
    const c = m.shape[m.shape.length - 1];
    if (m.shape.length !== 4 || typeof c !== 'number')
      throw new TrainConfigError(`delta: layer '${m.name}' has no [n, h, w, c] output`);
    return c;
  });
  const taps = tf.model({ inputs: o.model.inputs, outputs: [...maps, ...o.model.outputs] });
  // The source network: a frozen copy of the pretrained layers up to the feature maps (w0).
  const sourceGraph = tf.model({ inputs: o.model.inputs, outputs: maps });
  const source = await tf.models.modelFromJSON({ modelTopology: sourceGraph.toJSON(null, false) });
  source.setWeights(sourceGraph.getWeights());
  source.layers.forEach((l) => {
    l.trainable = false;
  });
  let weights = channels.map((c) => new Array<number>(c).fill(1 / c));
  let scale = weights.map((w, i) => tf.keep(tf.tensor1d(w.map((v) => v * channels[i]))));
  const head = new Set(o.head.filter((w) => !isNoDecayWeight(w)).map((w) => w.id));

  const setWeights = (next: number[][]) => {
    weights = next;
    scale.forEach((t) => t.dispose());
    scale = next.map((w, i) => tf.keep(tf.tensor1d(w.map((v) => v * channels[i]))));
  };

  return {
    layerNames: o.layers.map((l) => l.name),
    attention: () => weights.map((w) => [...w]),
    computeAttention: async (xs, ys) => {
      const lossOf = () =>
        tf.tidy(() => categoricalCrossentropy(ys, o.model.predict(xs) as tf.Tensor).dataSync()[0]);
      // One forward pass per channel (seconds for a whole backbone): the event loop gets turns.
      const turn = loopTurns();
      const base = lossOf();
      const next: number[][] = [];
      for (const [li, layer] of o.layers.entries()) {
        const vars = channelWeights(layer, channels[li]);
        const increases: number[] = [];
        for (let c = 0; c < channels[li]; c++) {
          await turn();
          const saved = vars.map((v) => tf.clone(v.read()));
          vars.forEach((v, vi) => {
            const masked = tf.tidy(() => {
              const mask = tf.oneHot(tf.tensor1d([c], 'int32'), channels[li]).reshape([channels[li]]);
              return tf.mul(saved[vi], tf.sub(1, mask));
            });
            v.write(masked);
            masked.dispose();
          });
          increases.push(lossOf() - base);
          vars.forEach((v, vi) => v.write(saved[vi]));
          tf.dispose(saved);
        }
        next.push(attentionFrom(increases, temperature));
      }
      setWeights(next);
      return weights.map((w) => [...w]);
    },
    forward: (xs) => {
      const outs = taps.apply(xs, { training: true }) as tf.Tensor[];
      const output = outs[outs.length - 1];
      if (alpha === 0 || (o.when && !o.when())) return { output, penalty: tf.scalar(0) };
      const src = source.apply(xs, { training: false }) as tf.Tensor | tf.Tensor[];
      const srcMaps = Array.isArray(src) ? src : [src];
      const terms = srcMaps.map((s, i) => {
        // Per sample and channel: mean over positions of the squared difference (the source holds no
        // trained variable, so no gradient reaches it).
        const d = tf.mean(tf.square(tf.sub(outs[i], s)), [1, 2]);
        return tf.mean(tf.sum(tf.mul(d, scale[i]), 1));
      });
      return { output, penalty: tf.mul<tf.Scalar>(tf.addN(terms), alpha / 2) };
    },
    penalty: (ws) =>
      tf.tidy(() => {
        const terms = ws.filter((w) => head.has(w.id)).map((w) => tf.sum(tf.square(w.read())));
        return terms.length > 0 ? tf.mul(tf.addN(terms), beta / 2) : tf.scalar(0);
      }),
    gradients: (ws, lossGrads) =>
      ws.map((w, i) => {
        const g = lossGrads[i] ?? null;
        if (!head.has(w.id) || beta === 0) return g;
        const r = tf.mul(w.read(), beta);
        return g ? tf.add(g, r) : r;
      }),
    dispose: () => {
      scale.forEach((t) => t.dispose());
      source.dispose();
    },
  };
}
