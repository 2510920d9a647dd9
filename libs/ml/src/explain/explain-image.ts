import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { gradCam } from './grad-cam';
import { integratedGradients } from './integrated-gradients';
import { limeImage } from './lime';
import type { Baseline } from './model-fn';
import { smoothGrad } from './smoothgrad';
import { ATTRIBUTION_METHODS, type Attribution, type AttributionMethod, type ModelImage } from './types';

/**
 * What an explanation may cost, per method. Defaults keep one explanation within a small multiple of
 * one prediction's latency (measured in bench/explain.ts); maxima bound what a request may ask.
 */
export const EXPLAIN_LIMITS = {
  /** Integrated Gradients: path intervals (steps + 1 gradient images). */
  steps: { default: 16, min: 2, max: 128 },
  /** SmoothGrad: noisy gradient images. */
  smoothgradSamples: { default: 8, min: 1, max: 64 },
  /** LIME: perturbed images. */
  limeSamples: { default: 64, min: 16, max: 512 },
  /** LIME: approximate superpixel count (SLIC). */
  segments: { default: 32, min: 4, max: 200 },
} as const;

export const explainRequestSchema = z
  .object({
    method: z.enum(ATTRIBUTION_METHODS as [AttributionMethod, ...AttributionMethod[]]).default('grad-cam'),
    /** Class index to explain; default the predicted class. */
    target: z.number().int().min(0).max(100_000).optional(),
    steps: z.number().int().min(EXPLAIN_LIMITS.steps.min).max(EXPLAIN_LIMITS.steps.max).optional(),
    samples: z.number().int().min(1).max(EXPLAIN_LIMITS.limeSamples.max).optional(),
    segments: z.number().int().min(EXPLAIN_LIMITS.segments.min).max(EXPLAIN_LIMITS.segments.max).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict()
  .superRefine((req, ctx) => {
    if (
      req.method === 'smoothgrad' &&
      req.samples !== undefined &&
      req.samples > EXPLAIN_LIMITS.smoothgradSamples.max
    )
      ctx.addIssue({
        code: 'custom',
        path: ['samples'],
        message: `smoothgrad takes at most ${EXPLAIN_LIMITS.smoothgradSamples.max} samples`,
      });
    if (req.method === 'lime' && req.samples !== undefined && req.samples < EXPLAIN_LIMITS.limeSamples.min)
      ctx.addIssue({
        code: 'custom',
        path: ['samples'],
        message: `lime takes at least ${EXPLAIN_LIMITS.limeSamples.min} samples`,
      });
  });

export type ExplainRequest = z.input<typeof explainRequestSchema>;
/** A validated request (defaults applied). */
export type ExplainRequestParsed = z.output<typeof explainRequestSchema>;

/** Images the request will run through the model (gradient images count once): its cost in prediction units. */
export function explainCost(request: ExplainRequestParsed): number {
  switch (request.method) {
    case 'integrated-gradients':
      return (request.steps ?? EXPLAIN_LIMITS.steps.default) + 3;
    case 'smoothgrad':
      return (request.samples ?? EXPLAIN_LIMITS.smoothgradSamples.default) + 1;
    case 'grad-cam':
      return 1;
    case 'lime':
      return (request.samples ?? EXPLAIN_LIMITS.limeSamples.default) + 1;
  }
}

/** One explanation by the method and budget of a validated request. */
export async function explainImage(
  model: tf.LayersModel,
  image: ModelImage,
  request: ExplainRequestParsed,
  context: { baseline?: Baseline; batchSize?: number } = {},
): Promise<Attribution> {
  const { target, seed } = request;
  const batchSize = context.batchSize;
  switch (request.method) {
    case 'integrated-gradients':
      return integratedGradients(model, image, {
        target,
        steps: request.steps ?? EXPLAIN_LIMITS.steps.default,
        baseline: context.baseline,
        batchSize,
      });
    case 'smoothgrad':
      return smoothGrad(model, image, {
        target,
        samples: request.samples ?? EXPLAIN_LIMITS.smoothgradSamples.default,
        seed,
        batchSize,
      });
    case 'grad-cam':
      return gradCam(model, image, { target });
    case 'lime':
      return limeImage(model, image, {
        target,
        samples: request.samples ?? EXPLAIN_LIMITS.limeSamples.default,
        segments: { kind: 'slic', count: request.segments ?? EXPLAIN_LIMITS.segments.default },
        baseline: context.baseline,
        seed,
        batchSize,
      });
  }
}
