import type { TrainingOptions } from '@modelsmith/contracts';
import {
  DEFAULT_NAS_ARCH,
  MULTI_LAYER_FEATURES,
  type BackboneSpec,
  type Params,
  type SearchSpace,
} from '@modelsmith/ml';
import {
  augmentationFor,
  buildRecipe,
  chooseBackbone,
  inputFor,
  type DatasetShape,
  type Recipe,
} from '../recipe';

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
  /**
   * With `headOnly`: the head trains on the train split's image + mirror + gray views
   * (FEATURE_HEAD_VIEWS; two more backbone passes than the first trial's image-only head) and tries
   * test-time averaging over the mirror and gray views (`viewsHeadConfig`, the search's second trial).
   */
  headViews?: boolean;
  /**
   * The default recipe itself (`buildRecipe(spec, shape, 'balanced', job options)`, what a fixed
   * 'balanced' job trains, epochs included): `trialRecipe` returns it untouched, so the trial's
   * model is that job's model. The other fields only describe it.
   */
  defaultRecipe?: boolean;
}

/**
 * Epochs the head-only first trial is recorded with (its rung's resource). Its head trains on cached
 * features for HEAD_ONLY_TRAINING.epochs whatever this says. Chosen when the head
 * trained through the backbone: on 771 food photos and Tux Paint stamps at 64 px (12 classes,
 * bench/first-model.ts) one head epoch at lr 1e-3 reached validation 0.22, 2 / 3 / 4 epochs at 3e-3
 * reached 0.49 / 0.51 / 0.52.
 */
export const FIRST_HEAD_EPOCHS = 3;
/** Learning rate of the first trial's head (unless the job sets one). */
export const FIRST_HEAD_LEARNING_RATE = 3e-3;
/**
 * How the head-only trials' heads train on their cached features: a fixed number of epochs, without
 * label smoothing (unless the job sets it) or dropout, instead of early stopping on the validation
 * loss with the recipe's smoothing and dropout 0.2. Chosen by 5-fold cross-validation on the source
 * style of both bench/style-shift-head.ts tasks, one rule for both (docs/training.md): early stopping
 * on a validation split as small as the product's (a ninth of the training folds) stopped after 4-9
 * epochs and scored below every fixed count.
 */
export const HEAD_ONLY_TRAINING = { epochs: 40, labelSmoothing: 0, dropout: 0 } as const;

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

/**
 * The side of a backbone's input at `scale` times its default for this data, within what it accepts.
 * A pretrained backbone's default for data smaller than its native input (224 px for MobileNetV2) is
 * the data upscaled, twice its side up to the native one (64 px uploads: 128, so the space's scales
 * give 96, 128 and 192): ImageNet features of 64 px images are poor (see `firstInputSize`), and
 * fine-tuning costs grow with the pixels, so the search's pretrained trials sit between the two.
 */
export function inputSizeFor(spec: BackboneSpec, shape: DatasetShape, scale: number): number {
  const base = inputFor(spec, shape);
  const r = spec.resizable;
  if (!r) return Math.max(base.height, base.width);
  const data = Math.max(base.height, base.width);
  const native = Math.max(spec.input.height, spec.input.width);
  const side = spec.pretrained && data < native ? Math.min(native, 2 * data) : data;
  return Math.min(r.maxSize, Math.max(r.minSize, Math.round((side * scale) / 4) * 4));
}

/**
 * Side to which the first trial upscales data smaller than it (within the backbone's native input),
 * chosen on validation among 128 / 160 / 192 / 224 px for 64 px uploads (frozen MobileNetV2 features
 * + a softmax head): the first trial on the 2,000-image food + stamps + clip art task
 * (`bench/first-model.ts --images 2000`, 388 validation images) 0.639 / **0.660** / 0.624 / 0.613, and
 * `bench/style-shift.ts --input-sweep` (`bench/results/style-shift.input-sweep-128-224.2026-12-07.json`)
 * 0.752 / 0.743 / 0.752 / 0.733 on clip art and 0.789 / **0.868** / 0.842 / 0.816 on the stamps: 160
 * has the best mean (0.757 vs 0.721 at 224), and its feature pass costs about half of 224's (the first
 * model of that task in 13.0 s instead of 19.8). The earlier sweep, 64 / 96 / 224 px, had 224 best.
 */
export const FIRST_UPSCALE_SIDE = 160;

/**
 * The first trial's input side: for a pretrained backbone, data smaller than FIRST_UPSCALE_SIDE
 * upscaled to it (64 px uploads run MobileNetV2 at 160 px), else the search's own side for the data
 * (`inputSizeFor`; within what the backbone accepts).
 */
export function firstInputSize(spec: BackboneSpec, shape: DatasetShape): number {
  const own = inputSizeFor(spec, shape, 1);
  const r = spec.resizable;
  if (!spec.pretrained || !r) return own;
  const native = Math.max(spec.input.height, spec.input.width);
  return Math.max(own, Math.min(r.maxSize, native, FIRST_UPSCALE_SIDE));
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
 * The first trial: the default recipe's choices (backbone, batch, learning rate), without
 * augmentation, so that a usable model exists early. With a pretrained backbone it trains only a head
 * on the frozen backbone (`headOnly`; on features computed once, `trainHeadOnFeatures`) at
 * `firstInputSize` (the data upscaled to the backbone's native input), FIRST_HEAD_LEARNING_RATE
 * unless the job sets a learning rate: the frozen-feature baseline, as a product model.
 */
export function firstConfig(spec: BackboneSpec, shape: DatasetShape, o: TrainingOptions): TrialConfig {
  const base = buildRecipe(spec, shape, 'fast', o);
  const headOnly = spec.pretrained === true;
  return {
    backbone: spec.id,
    inputSize: headOnly ? firstInputSize(spec, shape) : Math.max(base.input.height, base.input.width),
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

/**
 * The trial right after a head-only first trial (`c`): the same head on the same multi-layer features
 * at the same input, trained on the image + mirror + gray views of the train split and trying
 * test-time averaging over mirror + gray (kept only when validation says so). In the 5-fold
 * cross-validation of bench/style-shift-robust.ts (source style only) that head was the best of the
 * feature heads on both tasks (0.803 mean vs 0.765 for the image-only head). Never promoted (its
 * promotion would be the first trial's); the search chooses between it and the rest on validation.
 */
export function viewsHeadConfig(c: TrialConfig): TrialConfig {
  return { ...c, headOnly: true, headViews: true };
}

/**
 * The default recipe as a trial (`TrialConfig.defaultRecipe`) and the epochs it trains: the job's
 * backbone choice (`firstBackbone`), input, batch, learning rate, augmentation and phases exactly as a
 * fixed 'balanced' job with the same options would train them.
 */
export function defaultRecipeConfig(
  spec: BackboneSpec,
  shape: DatasetShape,
  o: TrainingOptions,
): { c: TrialConfig; epochs: number } {
  const r = buildRecipe(spec, shape, 'balanced', o);
  const aug = r.augmentation;
  return {
    c: {
      backbone: spec.id,
      inputSize: Math.max(r.input.height, r.input.width),
      learningRate: r.phases[0]?.learningRate ?? o.learningRate ?? 1e-3,
      weightDecay: r.weightDecay ?? 0,
      batchSize: r.batchSize,
      augmentation: aug === 'light' || aug === 'randaugment' ? aug : 'none',
      regularizer:
        r.regularizer?.type === 'l2sp' || r.regularizer?.type === 'delta' ? r.regularizer.type : 'none',
      regularizerAlpha:
        r.regularizer?.type === 'l2sp' || r.regularizer?.type === 'delta' ? r.regularizer.alpha : 0,
      ...(spec.id === NAS_BACKBONE ? { arch: DEFAULT_NAS_ARCH } : {}),
      defaultRecipe: true,
    },
    epochs: r.phases.reduce((n, p) => n + p.epochs, 0),
  };
}

/**
 * A configuration promoted to more epochs. The head-only first trial (the cheap first model) trains
 * the whole recipe: a head on cached features, then fine-tuning at its upscaled input, with the
 * `balanced` default recipe's augmentation (`light`) unless the job fixed one.
 */
export function promotedConfig(c: TrialConfig, o: TrainingOptions): TrialConfig {
  if (!c.headOnly) return c;
  const { headOnly: _headOnly, headViews: _headViews, ...rest } = c;
  const level = augmentationFor(o.augmentation ?? 'auto', 'balanced');
  return { ...rest, augmentation: level === 'light' || level === 'randaugment' ? level : rest.augmentation };
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
  if (c.defaultRecipe) return buildRecipe(spec, shape, 'balanced', o);
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
  // A pretrained backbone's head phase trains on its features computed once (then fine-tuning starts
  // from a converged head); the head phase's epochs then only set the fine-tuning's share.
  if (spec.pretrained) recipe.headOnFeatures = true;
  if (c.headOnly && spec.pretrained) {
    // The first model early: its head sees each train image once (the views come with the second
    // trial, `viewsHeadConfig`, and with promotion), and reads several layers' pooled features where
    // the backbone lists them: same backbone pass, higher cross-validated accuracy on both
    // bench/style-shift-robust.ts tasks (docs/training.md).
    if (!c.headViews) recipe.headImagesOnly = true;
    if (spec.id in MULTI_LAYER_FEATURES) recipe.headFeatures = 'multi';
    recipe.featureHeadEpochs = HEAD_ONLY_TRAINING.epochs;
    recipe.headDropout = HEAD_ONLY_TRAINING.dropout;
    recipe.labelSmoothing = o.labelSmoothing ?? HEAD_ONLY_TRAINING.labelSmoothing;
    recipe.phases = [
      { name: 'head', epochs, learningRate: c.learningRate, backbone: 'frozen', backboneLrScale: 0 },
    ];
  }
  return {
    ...recipe,
    input: spec.resizable ? { height: c.inputSize, width: c.inputSize, channels } : recipe.input,
    ...(c.weightDecay > 0 ? { weightDecay: c.weightDecay } : {}),
    ...(c.arch ? { arch: c.arch } : {}),
  };
}
