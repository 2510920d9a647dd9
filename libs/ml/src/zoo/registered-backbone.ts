import { z } from 'zod';
import { normalizationSchema } from '../preprocess/normalization';
import type { BackboneSpec } from '../catalogue/backbone-spec';

const size = z.number().int().min(8).max(1024);

/** What an operator supplies to register a tfjs layers model stored under an object-store prefix. */
export const registeredBackboneSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lowercase letters, digits, _ . - (max 64)'),
  displayName: z.string().min(1).max(200),
  /** Object-store prefix holding model.json and its weight shards. */
  prefix: z.string().min(1).max(512),
  input: z.object({ height: size, width: size, channels: z.union([z.literal(1), z.literal(3)]) }),
  normalization: normalizationSchema,
  featureLayer: z.string().min(1).max(200),
  featureDim: z
    .number()
    .int()
    .positive()
    .max(1 << 16),
  pretrained: z.boolean(),
  pretrainedOn: z.string().max(500).optional(),
  description: z.string().max(1000).default('operator-registered tfjs layers model'),
  license: z.object({ spdx: z.string().min(1).max(100), notes: z.string().max(2000).default('') }),
});

export type RegisteredBackboneInput = z.input<typeof registeredBackboneSchema>;

export function toRegisteredSpec(input: z.output<typeof registeredBackboneSchema>): BackboneSpec {
  return {
    id: input.id,
    displayName: input.displayName,
    family: 'registered',
    input: input.input,
    normalization: input.normalization,
    featureLayer: input.featureLayer,
    featureDim: input.featureDim,
    spatialFeatures: false,
    pretrained: input.pretrained,
    pretrainedOn: input.pretrainedOn,
    source: { kind: 'artifact-store', prefix: input.prefix, description: input.description },
    license: input.license,
  };
}
