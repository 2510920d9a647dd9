import type { AugmentationLevel, TrainingMode, TrainingOptions } from '@modelsmith/contracts';
import type { AugmentationPolicy, BackboneSpec } from '@modelsmith/ml';
import { chooseBackbone, inputFor, phasePlan, type DatasetShape } from '@modelsmith/ml/catalogue';
import { transferRegularizerFor, type TransferRegularizerChoice } from './transfer-regularizer';

/** User-facing options of an image-classification job (libs/contracts `trainingOptionsSchema`). */
export type ImageClassificationOptions = TrainingOptions;

export type { DatasetShape };
export { chooseBackbone, inputFor };

export interface TrainingPhase {
  /** Also the checkpoint key suffix. */
  name: 'head' | 'finetune' | 'warmup' | 'main';
  epochs: number;
  learningRate: number;
  /** 'frozen': only the head trains; 'trainable': the whole network, backbone at `backboneLrScale`. */
  backbone: 'frozen' | 'trainable';
  backboneLrScale: number;
  /** Stop early when validation loss stops improving (last phase only). */
  earlyStoppingPatience?: number;
}

export interface Recipe {
  backboneId: string;
  input: { height: number; width: number; channels: 1 | 3 };
  batchSize: number;
  seed: number;
  labelSmoothing: number;
  /** Augmentation of the training batches (validation and test batches are never augmented). */
  augmentation: AugmentationPolicy;
  phases: TrainingPhase[];
  /** Weight penalty while training (pretrained backbones only). */
  regularizer?: TransferRegularizerChoice;
  /** Decoupled weight decay (AdamW) when set and > 0; plain Adam otherwise. */
  weightDecay?: number;
  /** Architecture of a `nas_cnn` backbone (a search trial's); its default one when absent. */
  arch?: string;
  /**
   * A frozen head phase of a pretrained backbone trains on the backbone's features computed once
   * (`trainHeadOnFeatures`: up to FEATURE_HEAD_EPOCHS epochs, early stopping on validation loss)
   * instead of passing every batch through the backbone (a search's head-only first trial).
   */
  headOnFeatures?: boolean;
  /**
   * That head trains on the images as they are only, not on every view of FEATURE_HEAD_VIEWS (each
   * view is one more backbone pass over the train split): a search's head-only first trial, whose
   * point is a usable model early.
   */
  headImagesOnly?: boolean;
  /**
   * That head trains for exactly this many epochs on the cached features (no early stopping; the
   * validation loss is still recorded) instead of up to FEATURE_HEAD_EPOCHS with early stopping: a
   * search's head-only trials (`FEATURE_HEAD_FIXED_EPOCHS`).
   */
  featureHeadEpochs?: number;
  /** Dropout rate of the classifier's head (buildClassifier's default 0.2 when absent). */
  headDropout?: number;
  /**
   * A search's continuation trial: instead of the phases, the model (warm-started from an earlier
   * trial's final weights, `PipelineInput.warmStart`) trains `epochs` more epochs at a constant
   * learning rate of `learningRateFactor` times the last phase's, and the weights at the end of each
   * of those epochs are averaged (stochastic weight averaging, Izmailov et al. 2018).
   */
  swa?: { epochs: number; learningRateFactor: number };
  /**
   * What the classifier's head reads (buildClassifier's `features`): the backbone's output (`last`,
   * when absent) or the pooled activations of several of its layers joined (`multi`).
   */
  headFeatures?: 'last' | 'multi';
}

/**
 * 'auto' is 'light' except in 'fast' mode: over its few epochs (5 at 64 px) light augmentation cost
 * the food-photo bench 14 points of test accuracy (0.51 vs 0.66), while over 'balanced' it was even
 * (0.67 both). An explicit level is taken as asked.
 */
export function augmentationFor(requested: AugmentationLevel, mode: TrainingMode): Recipe['augmentation'] {
  if (requested !== 'auto') return requested;
  return mode === 'fast' ? 'none' : 'light';
}

/**
 * The default recipe: pretrained backbones warm up a new head on the frozen backbone, then fine-tune
 * everything with the backbone at a tenth of the learning rate; scratch backbones train in a short
 * first phase (a usable model early) and a main phase. `epochs` rescales the phase lengths.
 */
export function buildRecipe(
  spec: BackboneSpec,
  shape: DatasetShape,
  mode: TrainingMode,
  o: ImageClassificationOptions = {},
): Recipe {
  const lr = o.learningRate ?? 1e-3;
  const settings: Record<TrainingPhase['name'], Omit<TrainingPhase, 'name' | 'epochs'>> = {
    head: { learningRate: lr, backbone: 'frozen', backboneLrScale: 0 },
    finetune: {
      learningRate: lr * 0.3,
      backbone: 'trainable',
      backboneLrScale: 0.1,
      earlyStoppingPatience: 3,
    },
    warmup: { learningRate: lr, backbone: 'trainable', backboneLrScale: 1 },
    main: { learningRate: lr, backbone: 'trainable', backboneLrScale: 1, earlyStoppingPatience: 3 },
  };
  const phases: TrainingPhase[] = phasePlan(spec, mode, o.epochs).map((p) => ({
    name: p.name,
    epochs: p.epochs,
    ...settings[p.name],
  }));
  const batchSize =
    o.batchSize ?? Math.min(64, Math.max(8, 2 ** Math.floor(Math.log2(Math.max(8, shape.trainSamples / 8)))));
  if (o.earlyStopping === false) for (const p of phases) delete p.earlyStoppingPatience;
  return {
    backboneId: spec.id,
    input: inputFor(spec, shape),
    batchSize,
    seed: o.seed ?? 1234,
    labelSmoothing: o.labelSmoothing ?? 0.05,
    augmentation: augmentationFor(o.augmentation ?? 'auto', mode),
    phases,
    ...withRegularizer(transferRegularizerFor(spec, o.transfer)),
  };
}

const withRegularizer = (r: TransferRegularizerChoice | undefined) => (r ? { regularizer: r } : {});
