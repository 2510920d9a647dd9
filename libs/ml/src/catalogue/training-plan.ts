import type { TrainingMode } from '@modelsmith/contracts';
import type { BackboneSpec } from './backbone-spec';

/** What the recipe needs to know of a dataset version. */
export interface DatasetShape {
  height: number;
  width: number;
  channels: 1 | 3;
  numClasses: number;
  trainSamples: number;
}

/** Epochs of the two phases per mode: pretrained backbones (head, finetune), scratch ones (warmup, main). */
export const PHASE_EPOCHS: Record<TrainingMode, { pretrained: [number, number]; scratch: [number, number] }> =
  {
    fast: { pretrained: [2, 3], scratch: [1, 4] },
    balanced: { pretrained: [3, 8], scratch: [2, 10] },
    best: { pretrained: [5, 20], scratch: [2, 25] },
    // 'auto' searches (the worker's training/search); its trials set their epochs. This is its fallback without a validation split.
    auto: { pretrained: [3, 8], scratch: [2, 10] },
  };

export interface PhasePlan {
  name: 'head' | 'finetune' | 'warmup' | 'main';
  epochs: number;
  /** 'frozen': only the head trains; 'trainable': the whole network. */
  backbone: 'frozen' | 'trainable';
}

/**
 * The phases of the default recipe and their epochs: pretrained backbones warm up a head on the frozen
 * backbone, then fine-tune everything; scratch backbones train in a short first phase and a main one.
 * `epochs` rescales the two phase lengths. Phases of 0 epochs are left out. Shared by the worker's
 * recipe and the API's estimate, so both count the same epochs.
 */
export function phasePlan(
  spec: Pick<BackboneSpec, 'pretrained'>,
  mode: TrainingMode,
  epochs?: number,
): PhasePlan[] {
  const [first, second] = spec.pretrained ? PHASE_EPOCHS[mode].pretrained : PHASE_EPOCHS[mode].scratch;
  let e1 = first;
  let e2 = second;
  if (epochs !== undefined) {
    e1 = Math.max(1, Math.round((epochs * first) / (first + second)));
    e2 = Math.max(0, epochs - e1);
  }
  const phases: PhasePlan[] = spec.pretrained
    ? [
        { name: 'head', epochs: e1, backbone: 'frozen' },
        { name: 'finetune', epochs: e2, backbone: 'trainable' },
      ]
    : [
        { name: 'warmup', epochs: e1, backbone: 'trainable' },
        { name: 'main', epochs: e2, backbone: 'trainable' },
      ];
  return phases.filter((p) => p.epochs > 0);
}

/** Largest side up to which grayscale images train the small CNN from scratch under 'auto'. */
export const SCRATCH_GRAYSCALE_MAX_SIDE = 64;

/**
 * 'auto' picks by measurement (bench/food-transfer.ts, docs/training.md "Which backbone `auto`
 * picks"): MobileNetV2 transfer (pretrained on ImageNet) for colour images at any size (food photos at
 * 64 px, fast mode, 3 seeds: validation 66.7% vs 63.6% for the scratch CNN), and the small CNN from
 * scratch for grayscale images up to 64 px (Fashion-MNIST, 2,000 images at 28 px: 81.8% vs 62.0% for
 * MobileNetV2, whose ImageNet features fit grey 28 px clothing poorly). Larger grayscale images go
 * to MobileNetV2 (not measured; the small CNN stops at 64 px). Shared by the worker's recipe and the
 * API's estimate.
 */
export function chooseBackbone(
  requested: string | undefined,
  shape: Pick<DatasetShape, 'height' | 'width' | 'channels'>,
): string {
  if (requested && requested !== 'auto') return requested;
  const small = Math.max(shape.height, shape.width) <= SCRATCH_GRAYSCALE_MAX_SIDE;
  return shape.channels === 1 && small ? 'small_cnn_m' : 'mobilenet_v2';
}

/** The input size the backbone runs at: the dataset's cache resolution when the backbone allows it. */
export function inputFor(
  spec: BackboneSpec,
  shape: Pick<DatasetShape, 'height' | 'width' | 'channels'>,
): { height: number; width: number; channels: 1 | 3 } {
  const r = spec.resizable;
  const channels: 1 | 3 = (r?.channels ?? [spec.input.channels]).includes(shape.channels)
    ? shape.channels
    : 3;
  if (!r) return { ...spec.input, channels: spec.input.channels };
  const clamp = (v: number) => Math.min(r.maxSize, Math.max(r.minSize, v));
  return { height: clamp(shape.height), width: clamp(shape.width), channels };
}
