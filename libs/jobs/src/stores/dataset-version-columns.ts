import { z } from 'zod';

/**
 * The JSON columns of a dataset version, as the platform writes them: `options` (ingestion options
 * the client chose, in libs/datasets `IngestOptions` form), `stats` (the summary the ingestion
 * handler writes) and `report` (libs/datasets' full report; only the parts the platform reads are
 * typed, the rest is kept as written).
 */
export const storedIngestOptionsSchema = z
  .object({
    format: z.string().optional(),
    target: z.string().optional(),
    textColumn: z.string().optional(),
    labelColumn: z.string().optional(),
    splitColumn: z.string().optional(),
    image: z
      .object({
        size: z.number().int().optional(),
        channels: z.union([z.literal(1), z.literal(3)]).optional(),
        fit: z.enum(['cover', 'contain', 'fill']).optional(),
      })
      .optional(),
  })
  .loose();
export type StoredIngestOptions = z.infer<typeof storedIngestOptionsSchema>;

const classStats = z
  .object({
    name: z.string(),
    count: z.number(),
    splits: z
      .object({
        train: z.number().optional(),
        validation: z.number().optional(),
        test: z.number().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type ClassStats = z.infer<typeof classStats>;

export const datasetVersionStatsSchema = z
  .object({
    kind: z.string().optional(),
    format: z.string().optional(),
    samples: z.number().optional(),
    classes: z.array(classStats).default([]),
    splits: z.unknown().optional(),
    skipped: z.number().optional(),
    duplicates: z.number().optional(),
    labelConflicts: z.number().optional(),
    imbalanceRatio: z.number().nullable().optional(),
    warnings: z.number().optional(),
    previews: z.number().optional(),
  })
  .loose();
export type DatasetVersionStats = z.infer<typeof datasetVersionStatsSchema>;

export const datasetVersionReportSchema = z
  .object({
    image: z
      .object({
        cache: z
          .object({ fit: z.enum(['cover', 'contain', 'fill']).optional() })
          .loose()
          .optional(),
      })
      .loose()
      .nullable()
      .optional(),
  })
  .loose();
export type DatasetVersionReport = z.infer<typeof datasetVersionReportSchema>;
