import { z } from 'zod';

/**
 * The JSON columns of a model, as the training handler writes them: `manifest` (libs/ml
 * `ExportManifest`), `metrics` (its summary metrics), `report` (libs/ml `EvaluationReport`) and
 * `recipe` (the training recipe with its phase). Only what the platform reads is typed; the rest is
 * kept as written.
 */
export const modelManifestSchema = z
  .object({
    backboneId: z.string().nullable(),
    metrics: z.record(z.string(), z.number()),
    files: z.array(z.object({ path: z.string(), size: z.number() }).loose()),
  })
  .loose();
export type ModelManifest = z.infer<typeof modelManifestSchema>;

export const modelMetricsSchema = z.record(z.string(), z.number());
export type ModelMetrics = z.infer<typeof modelMetricsSchema>;

/** `accuracy` is absent for regression models (their report has `regression { rmse, mae, r2 }`). */
export const modelReportSchema = z
  .object({ accuracy: z.number().optional(), numSamples: z.number() })
  .loose();
export type ModelReport = z.infer<typeof modelReportSchema>;

export const modelRecipeSchema = z
  .object({ phase: z.string().optional(), final: z.boolean().optional() })
  .loose();
export type ModelRecipe = z.infer<typeof modelRecipeSchema>;

/** A deployment's `config` (the API validates what a client sends). */
export const deploymentConfigSchema = z.object({ topK: z.number().optional() }).loose();
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

/**
 * A deployment's `tuning` (the serving search's answer, written by the API): what the serving app
 * applies is the batch size and wait, for the model version it was tuned on.
 */
export const deploymentTuningSchema = z
  .object({
    modelId: z.string(),
    modelVersion: z.string(),
    maxBatchSize: z.number().int().min(1),
    maxBatchWaitMs: z.number().min(0),
    replicas: z.number().int().min(1),
  })
  .loose();
export type DeploymentTuning = z.infer<typeof deploymentTuningSchema>;
