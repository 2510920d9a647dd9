import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;
type LayerVariable = tf.LayerVariable;

/**
 * Chooses layers by name: a list of names, a regular expression tested against the name, or a
 * predicate. A nested model counts as a layer too; choosing it chooses everything inside it.
 */
export type LayerSelector = readonly string[] | RegExp | ((layer: Layer) => boolean);

function isContainer(layer: Layer): layer is Layer & { layers: Layer[] } {
  return Array.isArray((layer as unknown as { layers?: unknown }).layers);
}

/** Every layer of `model`, nested models included (depth-first, parents before children). */
export function allLayers(model: tf.LayersModel): Layer[] {
  const out: Layer[] = [];
  const walk = (layers: Layer[]) => {
    for (const l of layers) {
      out.push(l);
      if (isContainer(l)) walk(l.layers);
    }
  };
  walk(model.layers);
  return out;
}

export function matchesLayer(selector: LayerSelector, layer: Layer): boolean {
  if (typeof selector === 'function') return selector(layer);
  if (selector instanceof RegExp) {
    selector.lastIndex = 0;
    return selector.test(layer.name);
  }
  return selector.includes(layer.name);
}

/** Layers chosen by `selector` (a chosen nested model stands for its whole content). */
export function selectLayers(model: tf.LayersModel, selector: LayerSelector): Layer[] {
  return allLayers(model).filter((l) => matchesLayer(selector, l));
}

/** Marks the chosen layers (and their nested layers) not trainable. Returns how many layers matched. */
export function freezeLayers(model: tf.LayersModel, selector: LayerSelector): number {
  return setTrainable(model, selector, false);
}

/** Marks the chosen layers (and their nested layers) trainable. Returns how many layers matched. */
export function unfreezeLayers(model: tf.LayersModel, selector: LayerSelector): number {
  return setTrainable(model, selector, true);
}

function setTrainable(model: tf.LayersModel, selector: LayerSelector, trainable: boolean): number {
  const chosen = selectLayers(model, selector);
  const apply = (l: Layer) => {
    l.trainable = trainable;
    if (isContainer(l)) l.layers.forEach(apply);
  };
  chosen.forEach(apply);
  return chosen.length;
}

/** The trainable flag of every layer of {@link allLayers}, in the same order. */
export function trainableFlags(model: tf.LayersModel): boolean[] {
  return allLayers(model).map((l) => l.trainable);
}

export function setTrainableFlags(model: tf.LayersModel, flags: boolean[]): void {
  const layers = allLayers(model);
  if (layers.length !== flags.length)
    throw new Error(`expected ${layers.length} trainable flags, got ${flags.length}`);
  // Parents first would re-set children; set leaves last by walking in order (parents precede children).
  layers.forEach((l, i) => {
    l.trainable = flags[i];
  });
}

/** A weight of the model and the chain of layers that own it, outermost first. */
export interface OwnedWeight {
  weight: LayerVariable;
  owners: Layer[];
}

/**
 * The model's weights in a canonical order that does not depend on which layers are frozen
 * (`model.weights` lists trainable weights first, so freezing reorders it): leaf layers depth-first,
 * each layer's weights by creation. Two models of the same architecture list matching weights at
 * the same positions, which is what checkpoints rely on.
 */
export function orderedWeights(model: tf.LayersModel): OwnedWeight[] {
  const out: OwnedWeight[] = [];
  const seen = new Set<number>();
  const walk = (layers: Layer[], chain: Layer[]) => {
    for (const l of layers) {
      if (isContainer(l)) {
        walk(l.layers, [...chain, l]);
        continue;
      }
      const ws = [...l.weights].sort((a, b) => a.id - b.id);
      for (const w of ws) {
        if (seen.has(w.id)) continue;
        seen.add(w.id);
        out.push({ weight: w, owners: [...chain, l] });
      }
    }
  };
  walk(model.layers, []);
  if (out.length !== model.weights.length) {
    throw new Error(`found ${out.length} weights in the layers but the model has ${model.weights.length}`);
  }
  return out;
}

/** Whether a weight is a bias or normalisation parameter (not decayed by default). */
export function isNoDecayWeight(w: LayerVariable): boolean {
  const base = w.originalName.split('/').pop() ?? '';
  return w.shape.length <= 1 || /^(bias|beta|gamma|moving_mean|moving_variance)/.test(base);
}

/** Number of scalars in `model`'s weights: total, trainable and non-trainable. */
export function countParams(model: tf.LayersModel): {
  total: number;
  trainable: number;
  nonTrainable: number;
} {
  const size = (w: LayerVariable) => w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
  const trainable = model.trainableWeights.reduce((a, w) => a + size(w), 0);
  const total = model.weights.reduce((a, w) => a + size(w), 0);
  return { total, trainable, nonTrainable: total - trainable };
}
