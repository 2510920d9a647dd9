import { z } from 'zod';

/**
 * A trained model's suspected mislabeled training samples (training dynamics, AUM), as the worker
 * writes them among the model's files and `POST /v1/models/:id/clean` reads them.
 */
export const LABEL_QUALITY_FILE = 'label-quality.json';

export const labelQualityFileSchema = z
  .object({
    method: z.enum(['aum', 'aum+held-out', 'held-out']),
    threshold: z.number(),
    suspected: z.int().nonnegative(),
    suspects: z
      .array(
        z
          .object({
            sampleId: z.string().min(1).max(128),
            givenLabel: z.string(),
            believedLabel: z.string(),
            aum: z.number(),
            heldOutLabel: z.string().optional(),
          })
          .loose(),
      )
      .max(20_000),
  })
  .loose();
export type LabelQualityFile = z.infer<typeof labelQualityFileSchema>;
