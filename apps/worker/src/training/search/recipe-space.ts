import type { TrainingOptions } from '@modelsmith/contracts';
import { DEFAULT_NAS_ARCH, type BackboneSpec, type Params, type SearchSpace } from '@modelsmith/ml';
import { buildRecipe, chooseBackbone, inputFor, type DatasetShape, type Recipe } from '../recipe';

/** The backbones an 'auto' search tries when the job does not fix one: scratch CNNs and a pretrained one. */
export const SEARCH_BACKBONES = [
  'small_cnn_xs',
  'small_cnn_s',
  'small_cnn_m',
  'nas_cnn',
  'mobilenet_v2',
] as const;

/** The backbone whose architecture is searched (aging evolution over `arch`). */
export const NAS_BACKBONE = 'nas_cnn';

/** One configuration of the image-classification recipe, as a search trial's params carry it. */
export interface TrialConfig {
  backbone: string;
  /** Input side in pixels (square inputs are scaled from the dataset's cache resolution). */
  inputSize: number;
  learningRate: number;
  weightDecay: number;
  batchSize: number;
  augmentation: 'none' | 'light' | 'randaugment';
  /**
   * Transfer regularizer of pretrained backbones (ignored for scratch ones) and its strength: L2-SP's
   * alpha; DELTA takes a tenth of it (its default 0.01 is L2-SP's 0.1 / 10).
   */
  regularizer: 'none' | 'l2sp' | 'delta';
  regularizerAlpha: number;
  /** Architecture of a `nas_cnn` trial (libs/ml search `parseArch`). */
  arch?: string;
  /**
   * Only a head on the frozen pretrained backbone, for all the trial's epochs (the first trial of a
   * search with a pretrained backbone: a useful model from a few cheap epochs).
   */
  headOnly?: boolean;
}

/**
 * Epochs of the first trial's head when its backbone is pretrained. Measured on 771 food photos and
 * Tux Paint stamps at 64 px (12 classes, bench/first-model.ts): one head epoch at lr 1e-3 reached
 * validation 0.22 (its one epoch is all learning-rate warm-up), 2 / 3 / 4 epochs at 3e-3 reached
 * 0.49 / 0.51 / 0.52, each head epoch costing about one CPU-second per 400 images.
 */
export const FIRST_HEAD_EPOCHS = 3;
/** Learning rate of the first trial's head (unless the job sets one). */
export const FIRST_HEAD_LEARNING_RATE = 3e-3;

/**
 * The recipe space: backbone (unless the job fixed one), input scale relative to the backbone's
 * default input, learning rate, weight decay, batch size, augmentation level and the transfer
 * regularizer with its strength. Epochs are not sampled: successive halving assigns them per rung.
 */
export function recipeSearchSpace(backbones: readonly string[]): SearchSpace {
  return {
    backbone: { kind: 'choice', values: backbones },
    inputScale: { kind: 'choice', values: [0.75, 1, 1.5] },
    learningRate: { kind: 'loguniform', min: 3e-4, max: 5e-3 },
    weightDecay: { kind: 'choice', values: [0, 1e-4, 1e-3, 1e-2] },
    batchSize: { kind: 'choice', values: [16, 32, 64] },
    augmentation: { kind: 'choice', values: ['none', 'light', 'randaugment'] },
    regularizer: { kind: 'choice', values: ['none', 'l2sp', 'delta'] },
    regularizerAlpha: { kind: 'loguniform', min: 0.01, max: 1 },
  };
}

/** The backbones to search: the job's own choice when it fixed one, else SEARCH_BACKBONES that fit the data. */
export function searchBackbones(
  requested: string | undefined,
  specs: BackboneSpec[],
  shape: DatasetShape,
): string[] {
  if (requested && requested !== 'auto') return [requested];
  const available = new Set(specs.map((s) => s.id));
  return SEARCH_BACKBONES.filter(
    (id) =>
      available.has(id) &&
      fits(
        specs.find((s) => s.id === id)!,
        shape,
      ),
  );
}

function fits(spec: BackboneSpec, shape: DatasetShape): boolean {
  const r = spec.resizable;
  if (!r) return true;
  // A backbone whose smallest input is over twice the data's resolution mostly learns upsampling blur.
  return r.minSize <= 2 * Math.max(shape.height, shape.width);
}

/** The side of a backbone's input at `scale` times its default for this data, within what it accepts. */
export function inputSizeFor(spec: BackboneSpec, shape: DatasetShape, scale: number): number {
  const base = inputFor(spec, shape);
  const side = Math.round((Math.max(base.height, base.width) * scale) / 4) * 4;
  const r = spec.resizable;
  if (!r) return Math.max(base.height, base.width);
  return Math.min(r.maxSize, Math.max(r.minSize, side));
}

/**
 * A sampled point of `recipeSearchSpace` as a recipe configuration for this data; `arch` is the
 * architecture of a `nas_cnn` trial (the search proposes it).
 */
export function configFromParams(
  p: Params,
  spec: BackboneSpec,
  shape: DatasetShape,
  arch?: string,
): TrialConfig {
  return {
    backbone: spec.id,
    inputSize: inputSizeFor(spec, shape, Number(p.inputScale)),
    learningRate: Number(p.learningRate),
    weightDecay: Number(p.weightDecay),
    batchSize: Math.min(Number(p.batchSize), Math.max(8, shape.trainSamples)),
    augmentation: p.augmentation === 'light' || p.augmentation === 'randaugment' ? p.augmentation : 'none',
    regularizer:
      spec.pretrained && (p.regularizer === 'l2sp' || p.regularizer === 'delta') ? p.regularizer : 'none',
    regularizerAlpha: Number(p.regularizerAlpha),
    ...(spec.id === NAS_BACKBONE && arch ? { arch } : {}),
  };
}

/**
 * The first trial: the default recipe's choices (backbone, input, batch, learning rate), without
 * augmentation, so that a usable model exists after its few epochs. With a pretrained backbone it
 * trains only a head on the frozen backbone (`headOnly`, FIRST_HEAD_EPOCHS at
 * FIRST_HEAD_LEARNING_RATE unless the job sets a learning rate).
 */
export function firstConfig(spec: BackboneSpec, shape: DatasetShape, o: TrainingOptions): TrialConfig {
  const base = buildRecipe(spec, shape, 'fast', o);
  const headOnly = spec.pretrained === true;
  return {
    backbone: spec.id,
    inputSize: Math.max(base.input.height, base.input.width),
    learningRate: o.learningRate ?? (headOnly ? FIRST_HEAD_LEARNING_RATE : 1e-3),
    weightDecay: 0,
    batchSize: base.batchSize,
    augmentation: o.augmentation === 'light' || o.augmentation === 'randaugment' ? o.augmentation : 'none',
    // The search's space has L2-SP and DELTA; a fixed recipe's BSS or RIFLE starts the search without one.
    regularizer:
      base.regularizer?.type === 'l2sp' || base.regularizer?.type === 'delta'
        ? base.regularizer.type
        : 'none',
    regularizerAlpha:
      base.regularizer?.type === 'l2sp'
        ? base.regularizer.alpha
        : base.regularizer?.type === 'delta'
          ? base.regularizer.alpha * 10
          : 0.1,
    ...(spec.id === NAS_BACKBONE ? { arch: DEFAULT_NAS_ARCH } : {}),
    ...(headOnly ? { headOnly: true } : {}),
  };
}

/** Epochs of the first trial: FIRST_HEAD_EPOCHS for a head-only one, else the bottom rung's. */
export function firstEpochs(c: TrialConfig, bottomRung: number): number {
  return c.headOnly ? Math.max(bottomRung, FIRST_HEAD_EPOCHS) : bottomRung;
}

/** The default backbone of the first trial (the fixed recipe's choice). */
export function firstBackbone(o: TrainingOptions, shape: DatasetShape): string {
  return chooseBackbone(o.backbone, shape);
}

/**
 * The recipe a trial trains: the default recipe's phases (head + fine-tune, or warm-up + main) over
 * `epochs`, with the trial's configuration. Options the job set explicitly (label smoothing, seed,
 * early stopping) apply to every trial.
 */
export function trialRecipe(
  spec: BackboneSpec,
  shape: DatasetShape,
  c: TrialConfig,
  epochs: number,
  o: TrainingOptions,
): Recipe {
  const recipe = buildRecipe(spec, shape, 'balanced', {
    ...o,
    epochs,
    batchSize: c.batchSize,
    learningRate: c.learningRate,
    augmentation: c.augmentation,
    transfer: {
      ...o.transfer,
      regularizer: c.regularizer,
      alpha: c.regularizer === 'delta' ? c.regularizerAlpha / 10 : c.regularizerAlpha,
    },
  });
  const channels = recipe.input.channels;
  if (c.headOnly && spec.pretrained)
    recipe.phases = [
      { name: 'head', epochs, learningRate: c.learningRate, backbone: 'frozen', backboneLrScale: 0 },
    ];
  return {
    ...recipe,
    input: spec.resizable ? { height: c.inputSize, width: c.inputSize, channels } : recipe.input,
    ...(c.weightDecay > 0 ? { weightDecay: c.weightDecay } : {}),
    ...(c.arch ? { arch: c.arch } : {}),
  };
}
