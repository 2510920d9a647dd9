import { z } from 'zod';

/**
 * What a job works on and how, as stored on its row (`datasetVersionId`, `modelId`, `mode`, `budget`,
 * `options`). Each job definition carries a zod schema of these inputs: parsed when the job is
 * submitted (libs/jobs `JobSubmitter`) and again by the worker before the handler runs, so handlers
 * read typed values and never cast JSON columns.
 */
export interface JobRowInputs {
  datasetVersionId?: string;
  modelId?: string;
  mode?: string;
  budget?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

/** The input columns of a Job row (`@modelsmith/db`'s Job has them). */
export interface JobInputColumns {
  datasetVersionId: string | null;
  modelId: string | null;
  mode: string | null;
  budget: unknown;
  options: unknown;
}

/** A row's input columns as the definitions' `inputs` schemas see them (NULL columns are absent). */
export function rowInputs(job: JobInputColumns): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (job.datasetVersionId !== null && job.datasetVersionId !== undefined)
    out.datasetVersionId = job.datasetVersionId;
  if (job.modelId !== null && job.modelId !== undefined) out.modelId = job.modelId;
  if (job.mode !== null && job.mode !== undefined) out.mode = job.mode;
  if (job.budget !== null && job.budget !== undefined) out.budget = job.budget;
  if (job.options !== null && job.options !== undefined) out.options = job.options;
  return out;
}

const rowId = z.string().min(1).max(64);

/**
 * 'auto' (default): a cheap first model, then a hyper-parameter search (ASHA) while the budget lasts;
 * 'fast' | 'balanced' | 'best': one fixed recipe, its epochs scaled by the mode.
 */
export const TRAINING_MODES = ['auto', 'fast', 'balanced', 'best'] as const;
export type TrainingMode = (typeof TRAINING_MODES)[number];

/** Transfer regularizers a job can pick; see docs/training.md for what 'auto' picks. */
export const TRANSFER_REGULARIZERS = ['none', 'l2sp', 'delta', 'bss', 'rifle', 'auto'] as const;
export type TransferRegularizerName = (typeof TRANSFER_REGULARIZERS)[number];

/** How fine-tuning a pretrained backbone is regularized (no effect on scratch backbones). */
export const transferOptionsSchema = z.object({
  regularizer: z.enum(TRANSFER_REGULARIZERS).optional(),
  /** L2-SP strength toward the pretrained weights (default 0.1); DELTA feature-map strength (default 0.01). */
  alpha: z.number().min(0).max(10).optional(),
  /** L2-SP and DELTA strength of the new head's L2 (default 0.01). */
  beta: z.number().min(0).max(10).optional(),
  /** Drop the regularizer gradient's part that opposes the loss gradient (Wan et al. 2019). */
  conflictRule: z.boolean().optional(),
  /** BSS weight of the shrunk squared singular values (default 0.001). */
  eta: z.number().min(0).max(10).optional(),
  /** BSS: how many of the smallest singular values are shrunk (default 1). */
  k: z.number().int().min(1).max(64).optional(),
  /** RIFLE: head re-initializations over the fine-tune phase (default 3). */
  reinitTimes: z.number().int().min(0).max(10).optional(),
});
export type TransferOptions = z.infer<typeof transferOptionsSchema>;

/** Limits a search's chosen model must meet: measured ms per image (batch 1), MiB of float32 weights. */
export const modelConstraintsSchema = z.object({
  maxLatencyMs: z.number().min(0.01).max(60000).optional(),
  maxModelMB: z.number().min(0.001).max(10000).optional(),
});
export type ModelConstraints = z.infer<typeof modelConstraintsSchema>;

/** User-facing options of an image-classification job (all optional). */
/**
 * How training batches are augmented ('light': flip, resized crop, colour jitter; 'trivial': flip +
 * TrivialAugment; 'randaugment': flip + RandAugment (2 ops, magnitude 9); 'mixup' / 'cutmix':
 * 'light' + sample mixing); see docs/training.md.
 */
export const AUGMENTATION_LEVELS = [
  'none',
  'light',
  'trivial',
  'randaugment',
  'mixup',
  'cutmix',
  'auto',
] as const;
export type AugmentationLevel = (typeof AUGMENTATION_LEVELS)[number];

/** Model families of a tabular job ('auto': gradient-boosted trees and a linear model, chosen on validation). */
export const TABULAR_MODELS = ['auto', 'gbdt', 'linear'] as const;
export type TabularModelChoice = (typeof TABULAR_MODELS)[number];

/**
 * Model families of a text job ('auto': the mode's candidates, linear n-gram models and, outside
 * fast mode, the CNN over token embeddings, chosen on validation).
 */
export const TEXT_MODELS = ['auto', 'linear', 'cnn'] as const;
export type TextModelChoice = (typeof TEXT_MODELS)[number];

export const trainingOptionsSchema = z.object({
  /** A zoo backbone id, or 'auto' (default). */
  backbone: z.string().min(1).max(100).optional(),
  /** Total epochs (overrides the mode's default). */
  epochs: z.number().int().min(1).max(200).optional(),
  batchSize: z.number().int().min(1).max(512).optional(),
  learningRate: z.number().min(1e-6).max(1).optional(),
  labelSmoothing: z.number().min(0).max(0.5).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  /** Stop when validation loss stops improving (default true). */
  earlyStopping: z.boolean().optional(),
  transfer: transferOptionsSchema.optional(),
  /** Search: limits the chosen model must meet (trials breaking them are never chosen nor promoted). */
  constraints: modelConstraintsSchema.optional(),
  /** Training-batch augmentation: 'auto' (default) = 'light', except 'none' in fast mode. */
  augmentation: z.enum(AUGMENTATION_LEVELS).optional(),
  /** Tabular datasets: the target column (default: the dataset's). */
  target: z.string().min(1).max(256).optional(),
  /** Tabular datasets: the models tried ('auto' = all, the best on validation is kept). */
  tabularModel: z.enum(TABULAR_MODELS).optional(),
  /** Text datasets: the models tried ('auto' = the mode's candidates, the best on validation is kept). */
  textModel: z.enum(TEXT_MODELS).optional(),
});
export type TrainingOptions = z.infer<typeof trainingOptionsSchema>;

export const trainingBudgetSchema = z.object({
  /** Wall-clock limit from the job's first start; when reached the best model so far is kept. */
  maxMinutes: z.number().int().min(1).max(1440).default(60),
  /** Upper bound on search trials in 'auto' mode (default 12); the fixed-recipe modes run one. */
  maxTrials: z.number().int().min(1).max(100).optional(),
});

export const trainInputs = z.object({
  datasetVersionId: rowId,
  mode: z.enum(TRAINING_MODES).default('auto'),
  budget: trainingBudgetSchema.default({ maxMinutes: 60 }),
  options: trainingOptionsSchema.default({}),
});
export type TrainInputs = z.infer<typeof trainInputs>;

export const ingestDatasetInputs = z.object({ datasetVersionId: rowId });

export const BATCH_OUTPUT_FORMATS = ['jsonl', 'csv'] as const;
export type BatchOutputFormat = (typeof BATCH_OUTPUT_FORMATS)[number];

export const batchPredictOptionsSchema = z.object({
  /** Object key of the uploaded archive (libs/storage `keys.batchInput`). */
  inputKey: z.string().min(1).max(1024),
  /** The archive's file name as uploaded. */
  inputName: z.string().max(4096),
  inputSize: z.number().int().min(0),
  format: z.enum(BATCH_OUTPUT_FORMATS).default('jsonl'),
  /** Labels per image, capped at 100. */
  topK: z
    .number()
    .int()
    .min(1)
    .transform((k) => Math.min(k, 100))
    .default(3),
});
export type BatchPredictOptions = z.infer<typeof batchPredictOptionsSchema>;

export const batchPredictInputs = z.object({ modelId: rowId, options: batchPredictOptionsSchema });

/**
 * A diagnostic job. Its options are stored as the client sent them (the accelerator too), so the
 * object keeps unknown fields; only `durationMs` means something to the worker.
 */
export const noopInputs = z.object({
  options: z
    .object({
      /** How long the job runs (ms): 0..10 min; 150 ms when absent. */
      durationMs: z.number().int().min(0).max(600_000).optional(),
    })
    .loose()
    .optional(),
});
