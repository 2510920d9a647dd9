import type { TransferOptions } from '@modelsmith/contracts';
import {
  L2SP_DEFAULTS,
  l2sp,
  type BackboneSpec,
  type Classifier,
  type WeightRegularizer,
} from '@modelsmith/ml';

/** The regularizer a recipe fine-tunes with (resolved from the job's `options.transfer`). */
export interface TransferRegularizerChoice {
  type: 'l2sp';
  alpha: number;
  beta: number;
  conflictRule: boolean;
}

/**
 * The job's transfer regularizer, for pretrained backbones only (a scratch backbone has no starting
 * point worth pulling toward): 'l2sp' and 'auto' give L2-SP with Li et al.'s defaults unless the job
 * sets alpha/beta; 'none' or no choice gives none.
 */
export function transferRegularizerFor(
  spec: BackboneSpec,
  o: TransferOptions | undefined,
): TransferRegularizerChoice | undefined {
  const name = o?.regularizer ?? 'none';
  if (!spec.pretrained || name === 'none') return undefined;
  return {
    type: 'l2sp',
    alpha: o?.alpha ?? L2SP_DEFAULTS.alpha,
    beta: o?.beta ?? L2SP_DEFAULTS.beta,
    conflictRule: o?.conflictRule ?? false,
  };
}

const isMovingStatistic = (w: { originalName: string }) => /moving_(mean|variance)/.test(w.originalName);

/**
 * Builds the chosen regularizer on a freshly built classifier: w0 is the backbone's weights now, i.e.
 * the pretrained ones (call before any training; a resumed job rebuilds the classifier from the zoo
 * first, so w0 stays the pretrained weights). Dispose it when training is done.
 */
export function buildTransferRegularizer(
  classifier: Classifier,
  choice: TransferRegularizerChoice | undefined,
): WeightRegularizer | undefined {
  if (!choice) return undefined;
  const weightsOf = (layers: Classifier['headLayers']) =>
    layers.flatMap((l) => l.weights).filter((w) => !isMovingStatistic(w));
  return l2sp({
    backbone: weightsOf(classifier.backboneLayers),
    head: weightsOf(classifier.headLayers),
    alpha: choice.alpha,
    beta: choice.beta,
    conflictRule: choice.conflictRule,
  });
}
