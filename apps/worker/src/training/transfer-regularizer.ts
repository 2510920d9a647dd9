import type { TransferOptions } from '@modelsmith/contracts';
import {
  BSS_DEFAULTS,
  DELTA_DEFAULTS,
  L2SP_DEFAULTS,
  RIFLE_DEFAULTS,
  bss,
  delta,
  deltaLayers,
  l2sp,
  rifle,
  type BackboneSpec,
  type Classifier,
  type WeightRegularizer,
} from '@modelsmith/ml';

/** The regularizer a recipe fine-tunes with (resolved from the job's `options.transfer`). */
export type TransferRegularizerChoice =
  | { type: 'l2sp'; alpha: number; beta: number; conflictRule: boolean }
  | { type: 'delta'; alpha: number; beta: number }
  | { type: 'bss'; eta: number; k: number }
  | { type: 'rifle'; times: number };

/** What `regularizer: 'auto'` resolves to (see docs/training.md for the measurements behind it). */
export const AUTO_TRANSFER_REGULARIZER: 'l2sp' | 'delta' | 'bss' | 'rifle' = 'l2sp';

/**
 * The job's transfer regularizer, for pretrained backbones only (a scratch backbone has no starting
 * point worth pulling toward): each named one with its paper's defaults unless the job sets them;
 * 'auto' is {@link AUTO_TRANSFER_REGULARIZER}; 'none' or no choice gives none.
 */
export function transferRegularizerFor(
  spec: BackboneSpec,
  o: TransferOptions | undefined,
): TransferRegularizerChoice | undefined {
  const requested = o?.regularizer ?? 'none';
  if (!spec.pretrained || requested === 'none') return undefined;
  const name = requested === 'auto' ? AUTO_TRANSFER_REGULARIZER : requested;
  switch (name) {
    case 'l2sp':
      return {
        type: 'l2sp',
        alpha: o?.alpha ?? L2SP_DEFAULTS.alpha,
        beta: o?.beta ?? L2SP_DEFAULTS.beta,
        conflictRule: o?.conflictRule ?? false,
      };
    case 'delta':
      return { type: 'delta', alpha: o?.alpha ?? DELTA_DEFAULTS.alpha, beta: o?.beta ?? DELTA_DEFAULTS.beta };
    case 'bss':
      return { type: 'bss', eta: o?.eta ?? BSS_DEFAULTS.eta, k: o?.k ?? BSS_DEFAULTS.k };
    case 'rifle':
      return { type: 'rifle', times: o?.reinitTimes ?? RIFLE_DEFAULTS.times };
  }
}

const isMovingStatistic = (w: { originalName: string }) => /moving_(mean|variance)/.test(w.originalName);

/**
 * Builds the chosen regularizer on a freshly built classifier: L2-SP's w0 is the backbone's weights
 * now, i.e. the pretrained ones (call before any training; a resumed job rebuilds the classifier from
 * the zoo first, so w0 stays the pretrained weights). RIFLE re-initializes the head only in phases
 * where the backbone trains, and DELTA's feature-map penalty applies only there too (its w0 network is
 * a frozen copy of the pretrained layers; the caller computes its channel attention when the
 * backbone starts training). Dispose it when training is done.
 */
export async function buildTransferRegularizer(
  classifier: Classifier,
  choice: TransferRegularizerChoice | undefined,
): Promise<WeightRegularizer | undefined> {
  if (!choice) return undefined;
  switch (choice.type) {
    case 'l2sp': {
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
    case 'delta':
      return delta({
        model: classifier.model,
        layers: deltaLayers(classifier.backboneLayers),
        head: classifier.headLayers.flatMap((l) => l.weights),
        alpha: choice.alpha,
        beta: choice.beta,
        when: () => classifier.trainableBackboneLayers() > 0,
      });
    case 'bss':
      return bss({ model: classifier.model, features: classifier.features, eta: choice.eta, k: choice.k });
    case 'rifle':
      return rifle({
        head: classifier.headLayers,
        times: choice.times,
        when: () => classifier.trainableBackboneLayers() > 0,
      });
  }
}
